"""The ops commands: runs (history, filters, --json), run-now (and its refusal), pause, resume, sources."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

import quaysync.cli
from bots.blocked import record_blocked
from quaysync.config import Config
from quaysync.errors import AccountLocked
from store import Store
from store.locks import SourceLocks
from store.runs import finish_run, start_run

ENV = {"WORKER_TEST_PW": "not-used-here"}
Cli = Callable[..., Result]


def config_path(config: Config) -> Path:
    return config.base_dir / "config.yaml"


def seed_runs(store: Store) -> None:
    with store.session() as session:
        run = start_run(session, "portal:terminal", "scrape", "schedule")
        finish_run(session, run, "ok", {"containers": 40, "stored": 38, "not_found": 2, "pages": 6})
        run = start_run(session, "mail:carrier", "mail", "idle")
        finish_run(
            session,
            run,
            "failed",
            {"fetched": 0},
            [{"kind": "portal", "message": "cannot connect to 127.0.0.1:993", "subject": None}],
        )
        run = start_run(session, "import:orders", "import", "manual")
        finish_run(
            session, run, "partial", {"rows": 10, "problems": 1}, [], ["var/evidence/run-3/row-7.json"]
        )


def test_runs_lists_history_newest_first_with_filters(
    orders_config: Config, orders_store: Store, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_runs(orders_store)
    path = config_path(orders_config)
    every = json.loads(cli(path, "runs", "--json", env=ENV).output)
    assert [run["source"] for run in every] == ["import:orders", "mail:carrier", "portal:terminal"]
    portal = every[2]
    assert portal["counts"]["stored"] == 38 and portal["duration_seconds"] is not None
    assert every[0]["evidence"] == ["var/evidence/run-3/row-7.json"]

    def sources(*options: str) -> list[str]:
        result = cli(path, "runs", "--json", *options, env=ENV)
        assert result.exit_code == 0, result.output
        return [run["source"] for run in json.loads(result.output)]

    assert sources("--source", "portal:") == ["portal:terminal"]
    assert sources("--source", "orders") == ["import:orders"]
    assert sources("--outcome", "failed") == ["mail:carrier"]
    assert sources("--kind", "scrape") == ["portal:terminal"]
    assert sources("--limit", "1") == ["import:orders"]
    assert sources("--since", "1h") == ["import:orders", "mail:carrier", "portal:terminal"]
    assert sources("--since", "2999-01-01") == []

    monkeypatch.setattr(quaysync.cli.console, "width", 220)  # a wide terminal: no folded cells
    table = cli(path, "runs", env=ENV)
    assert table.exit_code == 0
    assert "cannot connect to 127.0.0.1:993" in table.output and "stored=38" in table.output
    bad = cli(path, "runs", "--outcome", "exploded", env=ENV)
    assert bad.exit_code == 2 and "one of" in bad.output


def test_run_now_runs_a_source_and_records_it(orders_config: Config, orders_store: Store, cli: Cli) -> None:
    path = config_path(orders_config)
    result = cli(path, "run-now", "import:orders", "--json", env=ENV)
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.output)
    assert outcome["outcome"] == "ok" and outcome["counts"]["containers"] == 2 and outcome["run_ids"]
    history = json.loads(cli(path, "runs", "--json", env=ENV).output)
    assert history[0]["id"] == outcome["run_ids"][0] and history[0]["trigger"] == "manual"
    again = cli(path, "run-now", "orders", env=ENV)  # a bare name; the file has not changed
    assert again.exit_code == 0 and "nothing new" in again.output


def test_run_now_refuses_while_the_source_runs_in_the_worker(
    orders_config: Config, orders_store: Store, cli: Cli
) -> None:
    worker_locks = SourceLocks(orders_store, "worker")
    with worker_locks.hold("import:orders", note="running (schedule)"):
        result = cli(config_path(orders_config), "run-now", "import:orders", env=ENV)
    assert result.exit_code == 75, result.output
    assert "import:orders is running (schedule) in worker" in result.output
    assert json.loads(cli(config_path(orders_config), "runs", "--json", env=ENV).output) == []


def test_run_now_of_an_unknown_source_names_the_known_ones(orders_config: Config, cli: Cli) -> None:
    result = cli(config_path(orders_config), "run-now", "portal:nope", env=ENV)
    assert result.exit_code == 2
    assert "import:orders" in result.output and "portal:terminal" in result.output


def test_pause_and_resume_and_resume_clears_blocked_accounts(
    orders_config: Config, orders_store: Store, cli: Cli
) -> None:
    path = config_path(orders_config)
    paused = cli(path, "pause", "portal:terminal", env=ENV)
    assert paused.exit_code == 0 and "paused" in paused.output

    def state() -> dict[str, Any]:
        overview = json.loads(cli(path, "sources", "--json", env=ENV).output)
        return next(item for item in overview["sources"] if item["source"] == "portal:terminal")

    assert state()["paused"] is True
    with orders_store.session() as session:
        record_blocked(session, "terminal", "ops", AccountLocked("locked"), run_id=None, evidence=[])
    assert set(state()["blocked"]) == {"ops"}
    resumed = cli(path, "resume", "terminal", env=ENV)
    assert resumed.exit_code == 0, resumed.output
    assert "resumed" in resumed.output and "blocked accounts cleared: ops" in resumed.output
    after = state()
    assert after["paused"] is False and after["blocked"] == {} and after["state"] == "idle"
    twice = cli(path, "resume", "terminal", env=ENV)
    assert "was not paused" in twice.output
