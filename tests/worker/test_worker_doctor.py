"""`run.py doctor` against real servers: a wrong password and an unreachable server are told apart."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import Result
from worker_helpers import free_port, write_config

from sandbox.mail.server import MailServerOptions, start_mail_server
from sandbox.portal import PortalOptions, RunningPortal, start_portal
from sandbox.smtp import start_smtp_sink

RIGHT = "harbour-Pilot-42"
ENV = {"DOCTOR_RIGHT": RIGHT, "DOCTOR_WRONG": "not-the-password"}


@pytest.fixture
def portal() -> Iterator[RunningPortal]:
    running = start_portal(PortalOptions(accounts={"ops": RIGHT}))
    yield running
    running.stop()


def test_doctor_tells_a_wrong_password_from_an_unreachable_server(
    tmp_path: Path, portal: RunningPortal, cli: Callable[..., Result]
) -> None:
    closed = f"http://127.0.0.1:{free_port()}/"
    with (
        start_mail_server(MailServerOptions(password=RIGHT)) as imap,
        start_smtp_sink(tmp_path / "sent", port=0) as smtp,
    ):

        def portal_source(name: str, url: str, secret: str) -> dict:
            return {
                "name": name,
                "family": "sandbox",
                "base_url": url,
                "timeout": "5s",
                "accounts": [{"username": "ops", "password": f"${{{secret}}}"}],
            }

        def mailbox(name: str, port: int, secret: str) -> dict:
            return {
                "name": name,
                "host": "127.0.0.1",
                "port": port,
                "security": "none",
                "username": "ops",
                "password": f"${{{secret}}}",
            }

        path = write_config(
            tmp_path,
            {
                "sources": {
                    "portals": [
                        portal_source("good", portal.url, "DOCTOR_RIGHT"),
                        portal_source("wrongpw", portal.url, "DOCTOR_WRONG"),
                        portal_source("gone", closed, "DOCTOR_RIGHT"),
                    ],
                    "mailboxes": [
                        mailbox("inbox", imap.port, "DOCTOR_RIGHT"),
                        mailbox("badmail", imap.port, "DOCTOR_WRONG"),
                        mailbox("nomail", free_port(), "DOCTOR_RIGHT"),
                    ],
                },
                "notifications": {
                    "channels": [
                        {"name": "ops-mail", "kind": "smtp", "smtp_host": "127.0.0.1", "smtp_port": smtp.port,
                         "mail_from": "q@example.com", "mail_to": ["ops@example.com"]},
                    ]
                },
            },
        )  # fmt: skip
        result = cli(path, "doctor", "--json", env=ENV)
        table = cli(path, "doctor", env=ENV)
    assert result.exit_code == 1, result.output
    document = json.loads(result.output)
    checks = {check["name"]: check for check in document["checks"]}
    assert document["ok"] is False

    def verdict(name: str) -> tuple[str, str]:
        return checks[name]["verdict"], checks[name]["detail"]

    assert verdict("config")[0] == "ok"
    assert verdict("store")[0] == "warn"  # no store yet: the first run creates it
    assert verdict("browser")[0] == "ok"
    assert verdict("portal good: login page")[0] == "ok"
    assert verdict("portal good: login as ops") == ("ok", "login works")
    wrong = verdict("portal wrongpw: login as ops")
    assert wrong[0] == "fail" and wrong[1].startswith("login rejected")
    gone = verdict("portal gone: login page")
    assert gone[0] == "fail" and gone[1].startswith("cannot connect")
    assert verdict("portal gone: login as ops")[0] == "skip"
    assert verdict("mailbox inbox")[0] == "ok"
    bad_mail = verdict("mailbox badmail")
    assert bad_mail[0] == "fail" and bad_mail[1].startswith("login rejected")
    no_mail = verdict("mailbox nomail")
    assert no_mail[0] == "fail" and no_mail[1].startswith("cannot connect")
    assert verdict("smtp ops-mail")[0] == "ok"
    assert RIGHT not in result.output and "not-the-password" not in result.output
    assert table.exit_code == 1 and "4 check(s) failed" in table.output


def test_doctor_on_a_broken_config_says_so(tmp_path: Path, cli: Callable[..., Result]) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("store:\n  url: mysql://nope\n", encoding="utf-8")
    result = cli(path, "doctor", "--json")
    assert result.exit_code == 1
    checks = json.loads(result.output)["checks"]
    assert checks[0]["name"] == "config" and checks[0]["verdict"] == "fail"
    assert "store.url" in checks[0]["detail"]
