"""The HTTP application: `create_app(store, options)` builds it; `build_server(...)` serves it.

    app = create_app(store, config.api, config=config)              # FastAPI, no global state
    server = build_server(app, config.api)                          # a uvicorn.Server
    threading.Thread(target=server.run).start(); ...; server.should_exit = True

Thin and read-only over the store: answers come from api.queries, never from a scrape. The
DCSA subscription endpoints are the only writes (subscriptions are the API's own data).
Open without a key: /openapi.json, /docs and whatever `extra_routers` bring (the worker adds
/health and /metrics there); routes of extra routers that need a key add
`Depends(api.auth.require_api_key)` themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import APIRouter, FastAPI

from api import board, routes_ask, routes_dcsa, routes_status
from api.problems import install_problem_handlers
from quaysync.config import ApiOptions, Config


def create_app(
    store: Any,
    options: ApiOptions,
    *,
    config: Config | None = None,
    extra_routers: Sequence[APIRouter] = (),
    evidence_dir: Path | None = None,
) -> FastAPI:
    """The API over an opened `store.Store`. `config` gives the data folder (failure evidence)."""
    app = FastAPI(
        title="quaysync",
        version="0.1.0",
        summary="Container status from terminal portals and carrier mail; DCSA Track & Trace 2.2 events.",
        docs_url="/docs",
        openapi_url="/openapi.json",
        redoc_url=None,
        # No OpenTelemetry here (the worker's metrics are Prometheus, /metrics): off, FastAPI
        # skips looking for configured providers on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.store = store
    app.state.options = options
    app.state.config = config
    if evidence_dir is None and config is not None:
        evidence_dir = config.data_path / "evidence"
    app.state.evidence_dir = evidence_dir
    install_problem_handlers(app)
    routers = [routes_status.router, routes_dcsa.router, routes_ask.router, board.router, *extra_routers]
    for router in routers:
        app.include_router(router)
    app.state.routers = routers  # for the Allow header of 405 answers (api.problems)
    return app


def build_server(app: FastAPI, options: ApiOptions, **uvicorn_options: Any) -> uvicorn.Server:
    """A uvicorn server for `app` on options.host:options.port (port 0: a free one).

    Run it with `server.run()` in a thread or `await server.serve()` in a task; stop it with
    `server.should_exit = True`. After start-up, `bound_port(server)` tells the port.
    """
    settings: dict[str, Any] = {
        "host": options.host,
        "port": options.port,
        "log_level": "warning",
        "access_log": False,
        "lifespan": "on",
        **uvicorn_options,
    }
    return uvicorn.Server(uvicorn.Config(app, **settings))


def serve(store: Any, config: Config, *, extra_routers: Sequence[APIRouter] = ()) -> uvicorn.Server:
    """The configured API as a uvicorn server, ready to run."""
    return build_server(create_app(store, config.api, config=config, extra_routers=extra_routers), config.api)


def bound_port(server: uvicorn.Server) -> int | None:
    """The port a started server listens on (useful with port 0)."""
    for listener in getattr(server, "servers", []) or []:
        for sock in listener.sockets:
            return int(sock.getsockname()[1])
    return None
