"""Running a route's store work: one session, inline on SQLite, in the thread pool elsewhere.

SQLite reads here take a fraction of a millisecond and never wait for writers (WAL), so running
them inline on the event loop is cheaper than the thread hop a sync route costs (~0.3-1 ms a
hop on a busy 2-core machine: the difference between meeting a 25 ms p99 at 300 req/s or not).
Over the network (PostgreSQL), and for writes (which may wait for SQLite's write lock), the
work goes to the thread pool so the loop keeps serving.

`run_read` is the hot reads' variant, for query functions that take a Core connection (the API
key check, a container's status, /v2/events; see api.prepared): no Session to build, begin and
commit. On SQLite it also skips the pool: the event loop's thread keeps one connection per store
for its inline reads (checking a pooled connection out and back in, twice a request, cost
~0.1 ms a request in bench/api_latency.py). That connection never holds a transaction between
reads: SQLite's driver only opens one for writes, and anything SQLAlchemy began is rolled back
after each read, so every read sees the latest commit and nothing holds up WAL checkpoints.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

T = TypeVar("T")


async def run_db(request: Request, work: Callable[[Session], T], *, write: bool = False) -> T:
    """`work(session)` in a transaction of its own; its result."""
    store = request.app.state.store

    def job() -> T:
        with store.session() as session:
            return work(session)

    if store.is_sqlite and not write:
        return job()
    return await run_in_threadpool(job)


# Per thread: store → the connection its inline reads use (an entry goes with its store).
_INLINE = threading.local()


def _inline_connection(store: Any) -> Connection:
    readers: weakref.WeakKeyDictionary[Any, Connection] | None = getattr(_INLINE, "readers", None)
    if readers is None:
        readers = _INLINE.readers = weakref.WeakKeyDictionary()
    connection = readers.get(store)
    if connection is None or connection.closed or connection.invalidated:
        connection = readers[store] = store.engine.connect()
    return connection


def _read_inline(store: Any, work: Callable[[Connection], T]) -> T:
    connection = _inline_connection(store)
    try:
        return work(connection)
    except BaseException:
        # Whatever state an error left behind goes with the connection; the next read opens anew.
        _INLINE.readers.pop(store, None)
        connection.close()
        raise
    finally:
        if not connection.closed and connection.in_transaction():
            connection.rollback()


async def run_read(request: Request, work: Callable[[Connection], T]) -> T:
    """`work(connection)` on a Core connection (read-only work; nothing is committed)."""
    store = request.app.state.store
    if store.is_sqlite:
        return _read_inline(store, work)

    def job() -> T:
        with store.engine.connect() as connection:
            return work(connection)

    return await run_in_threadpool(job)
