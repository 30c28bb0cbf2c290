"""`run.py mail ...`: poll now, quarantine, reprocess, templates — against the real IMAP server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
import typer
import yaml
from mailbox_testing import MAILBOX, PASSWORD, PASSWORD_ENV, count, mail_sample, mailbox_document, raws_in
from typer.testing import CliRunner

import mailbox.cli
from parsers.email import TEMPLATES
from quaysync.cli import STATE
from sandbox.mail.generator import SANDBOX_ROUTES
from sandbox.mail.malformed import MALFORMED
from sandbox.mail.server import RunningMailServer
from store import RunRow, Store, open_store
from store.tables_mail import MailMessageRow

REPO = Path(__file__).resolve().parents[2]


def _app() -> typer.Typer:
    """The CLI as run.py builds it, with only this room's commands."""
    app = typer.Typer(add_completion=False)

    @app.callback()
    def main(config: Annotated[Path, typer.Option("--config")]) -> None:
        STATE.config_path, STATE._config = config, None

    mailbox.cli.register(app)
    return app


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    runner, app = CliRunner(), _app()

    def run(config_file: Path, *args: str) -> Any:
        return runner.invoke(app, ["--config", str(config_file), *args])

    yield run
    STATE.config_path, STATE._config = None, None


def _config_file(tmp_path: Path, server: RunningMailServer, store_url: str, **overrides: Any) -> Path:
    path = tmp_path / f"config-{len(list(tmp_path.glob('config-*.yaml')))}.yaml"
    document = {
        "store": {"url": store_url},
        "sources": {"mailboxes": [mailbox_document(server, **overrides)]},
    }
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def test_mail_mailbox_polls_now_and_records_a_run(
    cli: Any, server: RunningMailServer, store_path: str, tmp_path: Path
) -> None:
    mails = mail_sample(3)
    for mail in mails:
        server.deliver(mail.raw)
    config_file = _config_file(tmp_path, server, store_path)

    result = cli(config_file, "mail", MAILBOX, "--json")  # `mail MAILBOX` is `mail poll MAILBOX`

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert (document["mailbox"], document["outcome"], document["counts"]["stored"]) == (MAILBOX, "ok", 3)
    assert raws_in(server, "Processed") == sorted(mail.raw for mail in mails)
    store = open_store(store_path)
    try:
        with store.session() as session:
            run = session.get(RunRow, document["run_id"])
            assert run is not None and (run.source, run.kind, run.outcome) == (
                f"mail:{MAILBOX}",
                "mail",
                "ok",
            )
    finally:
        store.dispose()

    server.deliver(mail_sample(1, skip=3)[0].raw)
    shown = cli(config_file, "mail", "poll", MAILBOX)  # with the progress bar and a table
    assert shown.exit_code == 0, shown.output
    assert "Mail poll" in shown.stdout and MAILBOX in shown.stdout
    assert f"{MAILBOX}/INBOX" in shown.stderr  # the progress bar's label


def test_quarantine_lists_why_and_reprocess_stores_after_the_fix(
    cli: Any, server: RunningMailServer, store_path: str, tmp_path: Path
) -> None:
    broken = next(case for case in MALFORMED if case.name == "unknown_layout")
    maersk = next(mail for mail in mail_sample(14) if mail.template == "maersk_arrival_html")
    server.deliver(broken.raw)
    server.deliver(maersk.raw)
    without_maersk = [r for r in SANDBOX_ROUTES if r.get("template") != "maersk_arrival_html"]
    before_fix = _config_file(tmp_path, server, store_path, routes=[dict(r) for r in without_maersk])
    polled = cli(before_fix, "mail", MAILBOX, "--json")
    assert polled.exit_code == 0, polled.output
    assert json.loads(polled.stdout)["counts"]["quarantined"] == 2

    listed = cli(before_fix, "mail", "quarantine", "--json")
    assert listed.exit_code == 0, listed.output
    items = json.loads(listed.stdout)
    assert {item["message_id"] for item in items} == {
        maersk.message_id,
        "<malformed.newsletter@mail.sandbox.example>",
    }
    assert all(
        item["reason"].startswith("needs template") and item["location"] == "Quarantine" for item in items
    )
    table = cli(before_fix, "mail", "quarantine", MAILBOX)
    assert table.exit_code == 0 and "Quarantined mail" in table.stdout

    fixed = _config_file(tmp_path, server, store_path)
    redone = cli(fixed, "mail", "reprocess", MAILBOX, "--reason", "needs template", "--json")
    assert redone.exit_code == 0, redone.output
    report = json.loads(redone.stdout)
    assert (report["tried"], report["stored"], report["still_quarantined"]) == (2, 1, 1)
    assert {item["state"] for item in report["mails"]} == {"processed", "quarantined"}
    assert raws_in(server, "Processed") == [maersk.raw]
    assert raws_in(server, "Quarantine") == [broken.raw]
    left = json.loads(cli(fixed, "mail", "quarantine", "--json").stdout)
    assert [item["message_id"] for item in left] == ["<malformed.newsletter@mail.sandbox.example>"]
    assert left[0]["attempts"] == 2


def test_templates_and_bad_names(
    cli: Any, server: RunningMailServer, store_path: str, tmp_path: Path
) -> None:
    config_file = _config_file(tmp_path, server, store_path)
    listed = cli(config_file, "mail", "templates", "--json")
    assert listed.exit_code == 0, listed.output
    document = json.loads(listed.stdout)
    assert {item["name"]: item["parser"] for item in document["templates"]} == {
        name: template.parser for name, template in TEMPLATES.items()
    }
    used = {item["name"]: item["routes"] for item in document["templates"]}
    assert used["edifact_attachment"] == [f"{MAILBOX}#0"] and used["html_table_body"] == []
    assert document["unknown_in_routes"] == []

    unknown = cli(config_file, "mail", "poll", "no-such-mailbox")
    assert unknown.exit_code == 2 and "no mailbox named 'no-such-mailbox'" in unknown.stderr
    broken = _config_file(tmp_path, server, store_path, routes=[{"template": "nope"}])
    refused = cli(broken, "mail", MAILBOX)
    assert refused.exit_code == 2 and "routes[0].template" in refused.stderr


def test_run_py_mail_polls_from_the_command_line(
    server: RunningMailServer, store: Store, store_path: str, tmp_path: Path
) -> None:
    mail = mail_sample(1)[0]
    server.deliver(mail.raw)
    config_file = _config_file(tmp_path, server, store_path)
    finished = subprocess.run(
        [sys.executable, "run.py", "--config", str(config_file), "mail", MAILBOX, "--json"],
        cwd=REPO,
        env={**os.environ, PASSWORD_ENV: PASSWORD},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert json.loads(finished.stdout)["counts"]["stored"] == 1
    assert count(store, MailMessageRow) == 1 and raws_in(server, "Processed") == [mail.raw]
