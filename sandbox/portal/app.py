"""The ASGI application: the portal's pages plus the /_sandbox/ admin endpoints."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.routing import Route

from sandbox.portal.admin import Admin
from sandbox.portal.routes import Portal


def build_app(portal: Portal, ready: threading.Event | None = None) -> Starlette:
    """`ready` is set once the server's event loop runs (and `portal.stopping` exists)."""

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        portal.stopping = asyncio.Event()
        portal.loop = asyncio.get_running_loop()
        if ready is not None:
            ready.set()
        yield

    admin = Admin(portal)
    return Starlette(
        routes=[
            Route("/_sandbox/{rest:path}", admin.dispatch, methods=["GET", "POST"]),
            Route("/{path:path}", portal.dispatch, methods=["GET", "POST"]),
        ],
        lifespan=lifespan,
    )
