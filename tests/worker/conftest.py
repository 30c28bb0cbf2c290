"""Fixtures of the worker tests: configs over real SQLite stores, an in-process worker, the commands."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner, Result
from worker_helpers import write_config

from quaysync.cli import STATE
from quaysync.config import Config, load_config
from store import Store, open_store

ORDERS_CSV = "Order No,Container No,B/L No\nPO-1,MSKU1234565,MAEU123456789\nPO-2,TGHU6961213,\n"


@pytest.fixture
def orders_config(tmp_path: Path) -> Config:
    """An import source over a CSV of two containers, and a portal nobody serves (never scraped)."""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "orders.csv").write_text(ORDERS_CSV, encoding="utf-8")
    path = write_config(
        tmp_path,
        {
            "sources": {
                "imports": [{"name": "orders", "path": "in/*.csv", "schedule": "1h"}],
                "portals": [
                    {
                        "name": "terminal",
                        "family": "sandbox",
                        "base_url": "http://127.0.0.1:9/",
                        "schedule": "1h",
                        "accounts": [
                            {"username": "ops", "password": "${WORKER_TEST_PW}"},
                            {"username": "ops2", "password": "${WORKER_TEST_PW}"},
                        ],
                    }
                ],
            }
        },
    )
    return load_config(path, environ={"WORKER_TEST_PW": "not-used-here"})


@pytest.fixture
def orders_store(orders_config: Config) -> Iterator[Store]:
    store = open_store(orders_config.store_url)
    yield store
    store.dispose()


@pytest.fixture
def make_worker(orders_store: Store) -> Iterator[Callable[..., Any]]:
    """Start an in-process worker (clock jobs slowed down: tests call them); stopped afterwards."""
    from worker.service import Worker

    started: list[Worker] = []

    def make(config: Config, store: Store | None = None, **options: Any) -> Worker:
        options.setdefault("rules_every", 3600.0)
        options.setdefault("outbox_every", 3600.0)
        options.setdefault("housekeeping_every", 3600.0)
        worker = Worker(config, store or orders_store, **options)
        started.append(worker)
        worker.start()
        return worker

    yield make
    for worker in started:
        worker.stop()


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Result]]:
    """Run this room's commands in-process against a given config file."""
    from worker import cli as worker_cli

    app = typer.Typer()
    worker_cli.register(app)
    previous = (STATE.config_path, STATE._config)
    runner = CliRunner()

    def invoke(config_path: Path, *args: str, env: dict[str, str] | None = None) -> Result:
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        STATE.config_path, STATE._config = config_path, None
        return runner.invoke(app, list(args))

    yield invoke
    STATE.config_path, STATE._config = previous
