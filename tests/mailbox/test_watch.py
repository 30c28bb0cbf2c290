"""The long-running watcher: IDLE as a wake-up hint, polling on the schedule, reconnecting."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from mailbox_testing import CuttableProxy, PassLog, Setup, mail_sample, raws_in

from mailbox import ImapOptions, watch_mailbox
from mailbox.watcher import seconds_until_next
from quaysync.config.types import Schedule
from sandbox.mail.server import RunningMailServer
from store import Store

QUICK = ImapOptions(timeout=5, reconnects=5, backoff_initial=0.05, backoff_max=0.2, idle_tick=0.1)


@pytest.fixture
def start_watcher(store: Store) -> Iterator[Callable[[Setup], PassLog]]:
    running: list[tuple[threading.Thread, threading.Event]] = []

    def start(setup: Setup) -> PassLog:
        log = PassLog()
        stop = threading.Event()
        thread = threading.Thread(
            target=watch_mailbox,
            args=(setup.config, setup.mailbox, store, stop),
            kwargs={"options": QUICK, "on_pass": log, "state": log.state},
            name="test-watcher",
            daemon=True,
        )
        thread.start()
        running.append((thread, stop))
        return log

    yield start
    for thread, stop in running:
        stop.set()
        thread.join(10)
        assert not thread.is_alive(), "the watcher did not stop within 10 s of being asked"


def test_idle_wakes_the_watcher_when_mail_arrives(
    server: RunningMailServer, store_path: str, tmp_path: Path, start_watcher: Callable[[Setup], PassLog]
) -> None:
    setup = Setup(server, store_path, tmp_path, schedule="1h")  # only IDLE can wake it in time
    first, second = mail_sample(2)
    server.deliver(first.raw)
    passes = start_watcher(setup)
    startup = passes.wait_for(lambda item: item.trigger == "startup")
    assert (startup.stored, startup.outcome) == (1, "ok")
    assert passes.state.idling.wait(10), "the watcher did not start to IDLE"

    server.deliver(second.raw)

    woke = passes.wait_for(lambda item: item.stored == 1 and item.trigger == "idle")
    assert woke.outcome == "ok"
    assert raws_in(server, "Processed") == sorted([first.raw, second.raw])
    assert raws_in(server, "INBOX") == []


def test_without_idle_the_watcher_polls_on_its_schedule(
    make_server, store_path: str, tmp_path: Path, start_watcher: Callable[[Setup], PassLog]
) -> None:
    server = make_server(idle=False)
    setup = Setup(server, store_path, tmp_path, schedule="1s")
    passes = start_watcher(setup)
    passes.wait_for(lambda item: item.trigger == "startup")
    mail = mail_sample(1)[0]
    server.deliver(mail.raw)
    found = passes.wait_for(lambda item: item.stored == 1)
    assert found.trigger == "schedule"
    assert raws_in(server, "Processed") == [mail.raw]


@pytest.fixture
def proxy(server: RunningMailServer) -> Iterator[CuttableProxy]:
    relay = CuttableProxy(server.host, server.port)
    yield relay
    relay.close()


def test_the_watcher_reconnects_after_the_connection_drops(
    server: RunningMailServer,
    store_path: str,
    tmp_path: Path,
    proxy: CuttableProxy,  # before start_watcher: the watcher stops before the relay closes
    start_watcher: Callable[[Setup], PassLog],
) -> None:
    setup = Setup(server, store_path, tmp_path, port=proxy.port, schedule="1h")
    passes = start_watcher(setup)
    passes.wait_for(lambda item: item.trigger == "startup")
    assert passes.state.idling.wait(10), "the watcher did not start to IDLE"
    proxy.paused.set()  # the network goes quiet: the server's "new mail" never arrives ...
    mail = mail_sample(1)[0]
    server.deliver(mail.raw)
    assert proxy.cut() == 1  # ... and then the connection drops

    found = passes.wait_for(lambda item: item.stored == 1)

    assert found.trigger == "reconnect" and found.outcome == "ok"
    assert proxy.accepted == 2
    assert raws_in(server, "Processed") == [mail.raw]


def test_the_next_poll_follows_the_schedule() -> None:
    assert seconds_until_next(Schedule("2m", interval=timedelta(minutes=2))) == 120
    at = datetime(2026, 11, 22, 10, 7, 30, tzinfo=UTC)
    assert seconds_until_next(Schedule("*/15 * * * *", cron="*/15 * * * *"), at) == 450
