"""Fixtures for the mailbox tests: a real IMAP server (pymap on loopback) per test, a SQLite store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from mailbox_testing import PASSWORD, Setup

from sandbox.mail.server import MailServerOptions, RunningMailServer, start_mail_server
from store import Store, open_store


@pytest.fixture
def make_server() -> Iterator[Callable[..., RunningMailServer]]:
    started: list[RunningMailServer] = []

    def make(**options: Any) -> RunningMailServer:
        server = start_mail_server(MailServerOptions(password=PASSWORD, **options))
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def server(make_server: Callable[..., RunningMailServer]) -> RunningMailServer:
    return make_server()


@pytest.fixture
def store_path(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'quaysync.db'}"


@pytest.fixture
def store(store_path: str) -> Iterator[Store]:
    opened = open_store(store_path)
    try:
        yield opened
    finally:
        opened.dispose()


@pytest.fixture
def setup(server: RunningMailServer, store_path: str, tmp_path: Path) -> Setup:
    return Setup(server, store_path, tmp_path)
