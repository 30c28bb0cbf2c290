"""The commands: status, events, ask (text and --json), api-key create|list|revoke."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from api_world import DISCHARGED, GATED_OUT, add_operations, ingest_world
from typer.testing import CliRunner

from api import cli
from api.auth import hash_token
from quaysync.cli import STATE
from store import open_store
from store.tables_api import ApiKeyRow


@pytest.fixture
def run(tmp_path: Path) -> Iterator:
    """Run this room's commands against a config whose store holds the test world."""
    (tmp_path / "config.yaml").write_text(
        f"data_dir: {tmp_path}/var\nstore:\n  url: sqlite:///{tmp_path}/var/quaysync.db\n", encoding="utf-8"
    )
    store = open_store(f"sqlite:///{tmp_path}/var/quaysync.db")
    ingest_world(store)
    add_operations(store, tmp_path / "var" / "evidence")
    store.dispose()
    app = typer.Typer()
    cli.register(app)
    app.command("noop", hidden=True)(lambda: None)  # keep typer from collapsing a single command
    previous = (STATE.config_path, STATE._config)
    STATE.config_path, STATE._config = tmp_path / "config.yaml", None
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, list(args))

    yield invoke
    STATE.config_path, STATE._config = previous


def test_status_of_a_container_as_a_panel_and_as_json(run) -> None:
    result = run("status", "msku1234565")
    assert result.exit_code == 0, result.output
    assert "container MSKU1234565" in result.output and "DISCHARGED" in result.output
    assert "2026-11-25" in result.output and "PO-20260001" in result.output
    document = json.loads(run("status", DISCHARGED, "--json").output)
    assert document["kind"] == "container" and document["available"] is True


def test_status_of_a_bill_and_an_order(run) -> None:
    bill = run("status", "COSU6123456780")
    assert bill.exit_code == 0 and "on hold: customs" in bill.output
    order = json.loads(run("status", "PO-20260007", "--json").output)
    assert order["kind"] == "order" and len(order["containers"]) == 2


def test_status_of_something_unknown(run) -> None:
    result = run("status", "MSKU1234566")
    assert result.exit_code == 1
    message = " ".join(result.output.split())  # rich wraps long lines
    assert "not tracked" in message and "MSKU1234565" in message


def test_events_show_versions_and_provenance(run) -> None:
    result = run("events", GATED_OUT)
    assert result.exit_code == 0, result.output
    assert "superseded" in result.output and "GTOT" in result.output
    document = json.loads(run("events", GATED_OUT, "--json").output)
    assert any(not event["current"] for event in document["events"])
    assert all(event["observation"]["source_ref"] for event in document["events"])
    bad = run("events", "MSKU1234566")
    assert bad.exit_code == 2 and "expected 5" in " ".join(bad.output.split())


def test_ask_in_both_languages(run) -> None:
    result = run("ask", "柜子到哪了 MSKU1234565?")
    assert result.exit_code == 0
    assert "您的集装箱 MSKU1234565 已于 11月20日 14:30 卸船" in result.output
    document = json.loads(run("ask", "is BL COSU6123456780 released?", "--json").output)
    assert document["language"] == "en" and document["answers"][0]["kind"] == "bill_of_lading"


def test_api_keys(run, tmp_path: Path) -> None:
    created = run("api-key", "create", "erp")
    assert created.exit_code == 0, created.output
    token = created.stdout.strip().splitlines()[0]
    assert token.startswith("qsk_")
    store = open_store(f"sqlite:///{tmp_path}/var/quaysync.db")
    with store.session() as session:
        (row,) = session.query(ApiKeyRow).all()
        assert row.key_hash == hash_token(token)
    store.dispose()
    assert token not in (tmp_path / "var" / "quaysync.db").read_bytes().decode("latin-1")
    again = run("api-key", "create", "erp")
    assert again.exit_code == 2 and "revoke it first" in " ".join(again.output.split())
    listed = json.loads(run("api-key", "list", "--json").output)
    assert [(key["name"], key["active"]) for key in listed] == [("erp", True)]
    assert token not in run("api-key", "list").output
    assert run("api-key", "revoke", "erp").exit_code == 0
    assert run("api-key", "revoke", "erp").exit_code == 1
    assert json.loads(run("api-key", "list", "--json").output)[0]["active"] is False
