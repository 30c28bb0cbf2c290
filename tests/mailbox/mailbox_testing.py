"""Helpers of the mailbox tests: configs for a mailbox on the sandbox IMAP server, the World's mail."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from mailbox.result import PollResult
from mailbox.watcher import WatchState
from quaysync.config import Config, MailboxSource, parse_config
from sandbox.mail.generator import SANDBOX_ROUTES, MailGenerator
from sandbox.mail.planned import GeneratedMail
from sandbox.mail.server import RunningMailServer
from sandbox.world import World
from store import EventRow, ObservationRow, ProblemRow, Store
from store.tables_mail import MailMessageRow

PASSWORD = "mailbox-test-password-7"
PASSWORD_ENV = "QUAYSYNC_TEST_MAIL_PASSWORD"
MAILBOX = "carrier-test"


@lru_cache(maxsize=1)
def world_mail() -> tuple[GeneratedMail, ...]:
    """Every mail of a small World (seed 7, 30 containers), oldest first."""
    world = World(seed=7, containers=30)
    generator = MailGenerator(world)
    return tuple(generator.render(planned) for planned in generator.plan)


def mail_sample(count: int, *, skip: int = 0) -> list[GeneratedMail]:
    """`count` mails of every kind in turn (arrival notices, EDI, notices, reports, ...)."""
    by_kind: dict[str, list[GeneratedMail]] = {}
    for mail in world_mail():
        by_kind.setdefault(mail.kind, []).append(mail)
    picked: list[GeneratedMail] = []
    round_number = 0
    while len(picked) < count + skip:
        added = False
        for kind in sorted(by_kind):
            mails = by_kind[kind]
            if round_number < len(mails):
                picked.append(mails[round_number])
                added = True
        if not added:
            break
        round_number += 1
    return picked[skip : skip + count]


def mailbox_document(server: RunningMailServer, **overrides: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "name": MAILBOX,
        "host": server.host,
        "port": server.port,
        "security": "none",
        "username": server.username,
        "password": "${" + PASSWORD_ENV + "}",
        "time_zone": "Asia/Shanghai",
        "schedule": "1h",
        "routes": [dict(route) for route in SANDBOX_ROUTES],
    }
    document.update(overrides)
    return {key: value for key, value in document.items() if value is not None}


def make_config(
    store_url: str, mailbox: dict[str, Any], base_dir: Path, environ: dict[str, str] | None = None
) -> Config:
    return parse_config(
        {"store": {"url": store_url}, "sources": {"mailboxes": [mailbox]}},
        base_dir,
        environ={PASSWORD_ENV: PASSWORD, **(environ or {})},
    )


class Setup:
    """A config whose one mailbox points at `server`, and the mailbox itself."""

    def __init__(
        self,
        server: RunningMailServer,
        store_url: str,
        base_dir: Path,
        *,
        environ: dict[str, str] | None = None,
        **overrides: Any,
    ) -> None:
        self.server = server
        self.config = make_config(store_url, mailbox_document(server, **overrides), base_dir, environ)
        self.mailbox: MailboxSource = self.config.sources.mailboxes[0]


def count(store: Store, table: Any, *where: Any) -> int:
    with store.session() as session:
        return int(session.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def store_counts(store: Store) -> dict[str, int]:
    return {
        "mail": count(store, MailMessageRow),
        "observations": count(store, ObservationRow),
        "events": count(store, EventRow),
        "problems": count(store, ProblemRow),
    }


def raws_in(server: RunningMailServer, folder: str) -> list[bytes]:
    return sorted(raw for raw, _flags in server.messages(folder).values())


def seen_anywhere(
    server: RunningMailServer, folders: tuple[str, ...] = ("INBOX", "Processed", "Quarantine")
) -> list:
    return [
        (folder, uid)
        for folder in folders
        for uid, (_raw, flags) in server.messages(folder).items()
        if "\\Seen" in flags
    ]


class PassLog:
    """Collects a watcher's passes (from its thread) and lets a test wait for one, with a timeout."""

    def __init__(self) -> None:
        self.passes: list[PollResult] = []
        self.state = WatchState()
        self._changed = threading.Condition()

    def __call__(self, result: PollResult) -> None:
        with self._changed:
            self.passes.append(result)
            self._changed.notify_all()

    def wait_for(self, predicate: Callable[[PollResult], bool], timeout: float = 15.0) -> PollResult:
        with self._changed:
            found: list[PollResult] = []

            def seen() -> bool:
                found[:] = [item for item in self.passes if predicate(item)]
                return bool(found)

            if not self._changed.wait_for(seen, timeout):
                raise AssertionError(f"no such pass within {timeout}s; passes: {self.summary()}")
            return found[0]

    def summary(self) -> list[tuple[str, str, int]]:
        return [(item.trigger, item.outcome, item.fetched) for item in self.passes]


class CuttableProxy:
    """A TCP relay on loopback between a client and a server, whose connections a test can cut.

    Sockets are only shut down while relay threads may use them, and closed at the end: closing
    one under a blocked thread would free its descriptor for the next connection to reuse.
    """

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        self._all: list[socket.socket] = []
        self.accepted = 0
        self.paused = threading.Event()  # set: what either side sends is dropped, not relayed
        threading.Thread(target=self._accept, name="test-proxy", daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _address = self.listener.accept()
            except OSError:
                return  # closed
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._open += [client, upstream]
                self._all += [client, upstream]
                self.accepted += 1
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                if not self.paused.is_set():
                    sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def cut(self) -> int:
        """End every open connection (as a dropped network does); how many there were."""
        with self._lock:
            ending, self._open = self._open, []
        for end in ending:
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
        self.paused.clear()
        return len(ending) // 2

    def close(self) -> None:
        self.listener.close()
        self.cut()
        for end in self._all:
            end.close()
