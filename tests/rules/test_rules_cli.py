"""The room's commands against a real store: notifications, rules check, review, hotspots."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from typer.testing import CliRunner

from quaysync.cli import STATE
from quaysync.config import load_config
from store import open_store
from sync import ingest
from sync.pipeline import build_ingest_settings
from sync.rules_cli import register
from tests.rules.conftest import SHANGHAI, at, said

VESSEL = {"vessel": "MSC PAMELA", "voyage": "123E", "mbl_no": "MEDU1234567890", "terminal": "Yantian"}


def app() -> typer.Typer:
    application = typer.Typer()

    @application.callback()
    def main(config: Annotated[Path, typer.Option("--config", "-c")]) -> None:
        STATE.config_path, STATE._config = config, None

    register(application)
    return application


def write_config(tmp_path: Path, smtp_port: int) -> Path:
    document: dict[str, Any] = {
        "store": {"url": f"sqlite:///{tmp_path / 'cli.db'}"},
        "rules": [
            {
                "name": "vessel-delayed",
                "when": "eta_slip",
                "hours": 48,
                "light": "red",
                "notify": ["ops-mail"],
            },
            {"name": "quiet", "when": "stale", "hours": 24, "review": True},
        ],
        "notifications": {
            "channels": [
                {
                    "name": "ops-mail",
                    "kind": "smtp",
                    "smtp_host": "127.0.0.1",
                    "smtp_port": smtp_port,
                    "mail_from": "q@forwarder.example",
                    "mail_to": ["ops@forwarder.example"],
                    "timeout": "2s",
                }
            ],
            "max_attempts": 1,
        },
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def invoke(config: Path, *args: str) -> Any:
    result = CliRunner().invoke(app(), ["--config", str(config), *args])
    assert result.exit_code == 0, result.output
    return result


def test_the_rooms_commands(tmp_path: Path) -> None:
    config_path = write_config(tmp_path, smtp_port=9)  # nothing listens there: deliveries fail
    config = load_config(config_path)
    store = open_store(config.store_url)
    settings = build_ingest_settings(config)
    with store.session() as session:
        ingest(
            session,
            [said("mail:carrier", 0, {**VESSEL, "eta": "2026-11-20 08:00"}, zone=SHANGHAI)],
            settings=settings,
            now=at(0),
        )
    with store.session() as session:
        ingest(
            session,
            [said("mail:carrier", 1, {**VESSEL, "eta": "2026-11-23 08:00"}, zone=SHANGHAI)],
            settings=settings,
            now=at(1),
        )
    store.dispose()

    listed = json.loads(invoke(config_path, "notifications", "--json").stdout)
    assert [(item["channel"], item["kind"], item["state"]) for item in listed] == [
        ("ops-mail", "notification", "pending")
    ]
    assert listed[0]["title"].startswith("[quaysync] RED MSKU1234565: vessel delayed 72 h")
    assert json.loads(invoke(config_path, "notifications", "--state", "sent", "--json").stdout) == []

    # a dry run as of two days later: the stale rule would fire, nothing is written
    dry = json.loads(invoke(config_path, "rules", "check", "--at", at(49).isoformat(), "--json").stdout)
    assert dry["applied"] is False and dry["lights"]["MSKU1234565"]["traffic_light"] == "red"
    assert {(action["rule"], action["state"]) for action in dry["actions"]} == {
        ("vessel-delayed", "known"),
        ("quiet", "opened"),
    }
    assert json.loads(invoke(config_path, "review", "list", "--json").stdout) == []
    applied = json.loads(
        invoke(config_path, "rules", "check", "--apply", "--at", at(49).isoformat(), "--json").stdout
    )
    assert applied["counts"]["alerts_opened"] == 1

    (item,) = json.loads(invoke(config_path, "review", "list", "--json").stdout)
    assert (item["subject"], item["rule"], item["kind"]) == ("MSKU1234565", "quiet", "review")
    shown = invoke(config_path, "review", "show", str(item["id"])).stdout
    assert "no news for 48 h" in shown and "mail:carrier: last statement" in shown
    invoke(config_path, "review", "resolve", str(item["id"]))
    assert json.loads(invoke(config_path, "review", "list", "--json").stdout) == []

    hotspots = json.loads(
        invoke(config_path, "hotspots", "--by", "terminal", "--since", "3650d", "--json").stdout
    )
    assert [(group["terminal"], group["alerts"]) for group in hotspots] == [("Yantian", 2)]

    from sync.channels import notification_senders, retry_policy
    from sync.outbox import deliver_due

    store = open_store(config.store_url)
    deliver_due(store, notification_senders(config), policy=retry_policy(config))
    store.dispose()
    (dead,) = json.loads(invoke(config_path, "notifications", "--state", "dead", "--json").stdout)
    assert "smtp 127.0.0.1:9" in dead["last_error"]
    assert invoke(config_path, "notifications", "retry", "--dead").stdout.strip() == "1 item(s) due again"
    (again,) = json.loads(invoke(config_path, "notifications", "--json").stdout)
    assert (again["state"], again["attempts"]) == ("pending", 0)
    assert "Notifications" in invoke(config_path, "notifications").stdout  # the table for people
