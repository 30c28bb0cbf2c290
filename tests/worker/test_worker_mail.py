"""Mailbox watchers in the worker (a real IMAP server on loopback), and the sandbox's SMTP sink."""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from typer.testing import Result
from worker_helpers import wait_for, write_config

from quaysync.config import load_config
from sandbox.mail.server import MailServerOptions, start_mail_server
from sandbox.smtp import start_smtp_sink
from store import open_store
from store.locks import live_holder
from worker.control import blocked_entries

PASSWORD = "quay-Crane-77x"


def test_a_rejected_mailbox_login_stops_its_watcher_until_resumed(
    tmp_path: Path, make_worker: Callable[..., Any], cli: Callable[..., Result]
) -> None:
    with start_mail_server(MailServerOptions(password=PASSWORD)) as server:
        path = write_config(
            tmp_path,
            {
                "sources": {
                    "mailboxes": [
                        {"name": "carrier", "host": "127.0.0.1", "port": server.port, "security": "none",
                         "username": "ops", "password": "${MAIL_TEST_PW}", "schedule": "1h"}
                    ]
                }
            },
        )  # fmt: skip
        config = load_config(path, environ={"MAIL_TEST_PW": "wrong-" + PASSWORD})
        store = open_store(config.store_url)
        try:
            worker = make_worker(config, store, serve_api=False)
            watcher = worker.watchers.watchers["mail:carrier"]

            def blocked() -> dict[str, Any]:
                with store.session() as session:
                    return blocked_entries(session, "mail:carrier")

            entry = wait_for(blocked, 20, "the rejected login to be recorded")["ops"]
            assert entry["kind"] == "login_rejected" and "run.py resume mail:carrier" in entry["action"]
            wait_for(lambda: not watcher.alive, 10, "the watcher to stop")
            assert live_holder(store, "mail:carrier") is None  # its lock was let go
            first_thread = watcher.thread
            worker.watchers.reconcile()  # the housekeeping tick: a blocked mailbox is not watched
            assert watcher.thread is first_thread and not watcher.alive
            runs = [
                run
                for run in worker.metrics.exposition().decode().splitlines()
                if "quaysync_runs_total{" in run
            ]
            assert any('outcome="blocked"' in run and "mail:carrier" in run for run in runs)

            resumed = cli(path, "resume", "mail:carrier", env={"MAIL_TEST_PW": "x"})
            assert resumed.exit_code == 0 and "blocked accounts cleared: ops" in resumed.output
            worker.watchers.reconcile()
            assert watcher.thread is not first_thread  # watched again (and refused again: same password)
            wait_for(blocked, 20, "the second rejection")
        finally:
            worker.stop()
            store.dispose()


def test_the_smtp_sink_keeps_each_message_as_a_numbered_file(tmp_path: Path) -> None:
    folder = tmp_path / "sandbox-outbox"
    folder.mkdir()
    (folder / "0007.eml").write_bytes(b"Subject: an earlier run\r\n\r\nkept\r\n")
    with start_smtp_sink(folder, port=0) as sink:
        with smtplib.SMTP(sink.host, sink.port, timeout=10) as client:
            client.sendmail("q@sandbox.example", ["ops@sandbox.example"], "Subject: one\r\n\r\nfirst\r\n")
            client.sendmail(
                "q@sandbox.example", ["ops@sandbox.example"], "Subject: two\r\n\r\n第二\r\n".encode()
            )
        files = sink.messages()
    assert [path.name for path in files] == ["0007.eml", "0008.eml", "0009.eml"]
    assert files[1].read_bytes().startswith(b"Subject: one")
    assert "第二" in files[2].read_bytes().decode()
    assert not list(folder.glob("*.part"))
