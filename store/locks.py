"""At most one run of a source at a time — across threads, the worker and `run.py run-now`.

A lock is a row in `source_state` (source = the source's key, key "lock") naming its holder:

    {"owner": "worker" | "run-now", "pid": 4242, "started": <process start time>, "host": "ops-1",
     "token": "<uuid>", "since": ISO UTC, "renewed": ISO UTC}

Taking it is one INSERT (the primary key makes a second holder fail) or, when a row is there, an
UPDATE of a row whose holder is gone: on the same host the holder's process is looked up (pid and
start time, so a reused pid does not count); on another host (a shared PostgreSQL) the lease ends
when it has not been renewed for LEASE. Inside one process a threading lock per source comes first,
so two threads never race for the row at all.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psutil
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from store.engine import Store
from store.tables import SourceStateRow

LOCK_KEY = "lock"
LEASE = timedelta(minutes=10)  # for holders on other hosts; the worker renews every minute


class SourceBusy(Exception):
    """The source is running elsewhere; `holder` says where."""

    def __init__(self, source: str, holder: dict[str, Any]) -> None:
        self.source = source
        self.holder = holder
        super().__init__(describe_holder(source, holder))


def describe_holder(source: str, holder: dict[str, Any]) -> str:
    owner = holder.get("owner", "another process")
    where = f"pid {holder.get('pid')}" + (f" on {holder['host']}" if holder.get("host") != _HOST else "")
    what = holder.get("note") or "running"
    return f"{source} is {what} in {owner} ({where}) since {holder.get('since', '?')}"


_HOST = socket.gethostname()


def _process_start() -> float:
    return psutil.Process(os.getpid()).create_time()


def holder_alive(holder: dict[str, Any], now: datetime | None = None) -> bool:
    """Whether the process named by a lock row still runs (same host) or renews its lease."""
    if holder.get("host") == _HOST:
        try:
            process = psutil.Process(int(holder.get("pid", -1)))
            return (
                abs(process.create_time() - float(holder.get("started", 0))) < 0.01
                and process.status() != psutil.STATUS_ZOMBIE
            )
        except (psutil.Error, ValueError):
            return False
    now = now or datetime.now(UTC)
    try:
        renewed = datetime.fromisoformat(str(holder.get("renewed") or holder.get("since")))
    except ValueError:
        return False
    return now - renewed < LEASE


@dataclass
class HeldLock:
    source: str
    token: str


class SourceLocks:
    """The locks one process takes; `owner` says who it is ("worker" or "run-now")."""

    def __init__(self, store: Store, owner: str) -> None:
        self.store = store
        self.owner = owner
        self._started = _process_start()
        self._threads: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._held: dict[str, HeldLock] = {}

    def _thread_lock(self, source: str) -> threading.Lock:
        with self._guard:
            return self._threads.setdefault(source, threading.Lock())

    def _value(self, token: str, note: str, now: datetime) -> dict[str, Any]:
        return {
            "owner": self.owner,
            "pid": os.getpid(),
            "started": self._started,
            "host": _HOST,
            "token": token,
            "note": note,
            "since": now.isoformat(),
            "renewed": now.isoformat(),
        }

    def acquire(self, source: str, note: str = "running") -> HeldLock:
        """Take the source's lock or raise SourceBusy naming who has it."""
        local = self._thread_lock(source)
        if not local.acquire(blocking=False):  # another thread of this process runs it
            mine = {"owner": self.owner, "pid": os.getpid(), "host": _HOST, "note": "running"}
            raise SourceBusy(source, self.holder(source) or mine)
        try:
            lock = self._acquire_row(source, note)
        except BaseException:
            local.release()
            raise
        self._held[source] = lock
        return lock

    def _acquire_row(self, source: str, note: str) -> HeldLock:
        token = uuid.uuid4().hex
        for _attempt in range(3):
            now = datetime.now(UTC)
            value = self._value(token, note, now)
            try:
                with self.store.session() as session:
                    row = session.execute(
                        select(SourceStateRow)
                        .where(SourceStateRow.source == source, SourceStateRow.key == LOCK_KEY)
                        .with_for_update()
                    ).scalar_one_or_none()
                    if row is None:
                        session.add(SourceStateRow(source=source, key=LOCK_KEY, value=value, updated_at=now))
                    elif holder_alive(row.value or {}, now):
                        raise SourceBusy(source, dict(row.value or {}))
                    else:
                        # The holder died without letting go (killed, crashed). Take the row over
                        # only as it was read: a second process doing the same finds it changed.
                        taken = session.execute(
                            update(SourceStateRow)
                            .where(
                                SourceStateRow.source == source,
                                SourceStateRow.key == LOCK_KEY,
                                SourceStateRow.updated_at == row.updated_at,
                            )
                            .values(value=value, updated_at=now)
                            .execution_options(synchronize_session=False)
                        )
                        if taken.rowcount != 1:
                            continue
                return HeldLock(source, token)
            except (IntegrityError, OperationalError):
                continue  # another process took or inserted it meanwhile: look again
        current = self.holder(source)
        raise SourceBusy(source, current or {"owner": "another process"})

    def release(self, lock: HeldLock) -> None:
        try:
            with self.store.session() as session:
                row = session.execute(
                    select(SourceStateRow)
                    .where(SourceStateRow.source == lock.source, SourceStateRow.key == LOCK_KEY)
                    .with_for_update()
                ).scalar_one_or_none()
                if row is not None and (row.value or {}).get("token") == lock.token:
                    session.delete(row)
        finally:
            self._held.pop(lock.source, None)
            with contextlib.suppress(RuntimeError):
                self._thread_lock(lock.source).release()

    @contextlib.contextmanager
    def hold(self, source: str, note: str = "running") -> Iterator[HeldLock]:
        lock = self.acquire(source, note)
        try:
            yield lock
        finally:
            self.release(lock)

    def held(self) -> list[str]:
        return sorted(self._held)

    def holder(self, source: str) -> dict[str, Any] | None:
        """The live holder of `source`'s lock, if any (a dead holder's row does not count)."""
        return live_holder(self.store, source)

    def renew(self) -> None:
        """Keep this process's leases (for holders on other hosts) from running out."""
        now = datetime.now(UTC)
        for lock in list(self._held.values()):
            with self.store.session() as session:
                row = session.get(SourceStateRow, (lock.source, LOCK_KEY))
                if row is not None and (row.value or {}).get("token") == lock.token:
                    row.value = {**row.value, "renewed": now.isoformat()}
                    row.updated_at = now


def live_holder(store: Store, source: str) -> dict[str, Any] | None:
    with store.session() as session:
        row = session.get(SourceStateRow, (source, LOCK_KEY))
        value = dict(row.value or {}) if row is not None else None
    return value if value is not None and holder_alive(value) else None


def live_holders(store: Store) -> dict[str, dict[str, Any]]:
    """Every source whose lock is held by a live process, with its holder."""
    with store.session() as session:
        rows = session.execute(select(SourceStateRow).where(SourceStateRow.key == LOCK_KEY)).scalars().all()
        values = {row.source: dict(row.value or {}) for row in rows}
    return {source: value for source, value in values.items() if holder_alive(value)}


def drop_dead_locks(store: Store) -> list[str]:
    """Remove lock rows whose holder is gone; the sources they named."""
    with store.session() as session:
        rows = session.execute(select(SourceStateRow).where(SourceStateRow.key == LOCK_KEY)).scalars().all()
        dead = [row.source for row in rows if not holder_alive(dict(row.value or {}))]
        if dead:
            session.execute(
                delete(SourceStateRow).where(SourceStateRow.key == LOCK_KEY, SourceStateRow.source.in_(dead))
            )
    return dead


__all__ = [
    "LEASE",
    "LOCK_KEY",
    "HeldLock",
    "SourceBusy",
    "SourceLocks",
    "describe_holder",
    "drop_dead_locks",
    "holder_alive",
    "live_holder",
    "live_holders",
]
