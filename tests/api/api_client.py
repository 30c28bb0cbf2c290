"""Clients for the API tests: Starlette's TestClient (without its httpx deprecation notice — we pin
httpx) and the app served for real by uvicorn on a free loopback port."""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import FastAPI

from api.app import bound_port, build_server
from quaysync.config import ApiOptions

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

__all__ = ["TestClient", "served"]


@contextmanager
def served(app: FastAPI, timeout: float = 20.0) -> Iterator[str]:
    """Serve `app` with uvicorn in a thread; yields its base URL; stops it afterwards."""
    server = build_server(app, ApiOptions(port=0))
    thread = threading.Thread(target=server.run, name="api-under-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:  # uvicorn sets `started` once it listens
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the API did not start")
        time.sleep(0.005)
    try:
        yield f"http://127.0.0.1:{bound_port(server)}"
    finally:
        server.should_exit = True
        thread.join(timeout)
