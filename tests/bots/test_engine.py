"""The engine over time: stopping and cancelling a run, context recycling, a browser crash, the CLI."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

import pytest
import typer
import yaml
from bot_helpers import (
    PASSWORD,
    Scrape,
    Setup,
    assert_every_container_accounted_for,
    build_setup,
    numbers_of,
    options,
)
from typer.testing import CliRunner

from bots import BotEngine, EngineThread, ScrapeProgress
from bots.browser import BrowserPool
from bots.cli import register
from quaysync.aio import run_sync
from quaysync.cli import STATE
from sandbox.portal import RunningPortal
from store import RunRow

pytestmark = pytest.mark.browser


def _run_row(setup: Setup, run_id: int) -> RunRow:
    with setup.store.session() as session:
        row = session.get(RunRow, run_id)
    assert row is not None
    return row


async def _open_contexts(pool: BrowserPool) -> int:
    browser = await pool.browser()
    return len(browser.contexts)


def test_stop_event_ends_the_run_at_a_page_boundary(
    portal: RunningPortal, setup: Setup, scrape: Scrape, engine: EngineThread
) -> None:
    portal.configure(latency=0.1)
    stop = threading.Event()

    def stop_after_first_batch(progress: ScrapeProgress) -> None:
        if progress.stored >= 2:
            stop.set()

    asked = numbers_of(portal, 12)
    result = scrape(
        asked, source=setup.portal_with(batch_size=2), stop_event=stop, progress=stop_after_first_batch
    )

    assert result.outcome == "interrupted"
    assert 2 <= len(result.stored) < len(asked)
    assert_every_container_accounted_for(result, asked)
    assert {failure.kind for failure in result.failed} == {"interrupted"}
    assert _run_row(setup, result.run_id).outcome == "interrupted"
    assert engine.call(_open_contexts(engine.engine.pool)) == 0, "the run's browser context is closed"


def test_cancelling_the_task_records_an_interrupted_run(portal: RunningPortal, setup: Setup) -> None:
    portal.configure(latency=0.2)
    asked = numbers_of(portal, 10, start=20)

    async def cancel_mid_run() -> tuple[int, set[int]]:
        first_batch = asyncio.Event()
        run_ids: list[int] = []

        def progress(update: ScrapeProgress) -> None:
            run_ids.append(update.run_id)
            if update.stored:
                first_batch.set()

        async with BotEngine(setup.config) as own:
            task = asyncio.create_task(
                own.scrape(
                    setup.portal_with(batch_size=2),
                    asked,
                    store=setup.store,
                    progress=progress,
                    options=options(),
                )
            )
            await asyncio.wait_for(first_batch.wait(), 30)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            pids = set(own.pool.process_ids())
        return run_ids[0], pids

    run_id, pids = run_sync(cancel_mid_run())
    assert pids, "the engine's browser was running"
    row = _run_row(setup, run_id)
    assert row.outcome == "interrupted" and row.ended_at is not None
    assert 0 < row.counts["stored"] < len(asked)
    assert any(error["kind"] == "interrupted" for error in row.errors)


def test_contexts_are_recycled_without_logging_in_again(portal: RunningPortal, tmp_path: Path,
                                                        engine: EngineThread) -> None:  # fmt: skip
    setup = build_setup(tmp_path, portal.url, batch_size=2, recycle_after_pages=10)
    asked = numbers_of(portal, 16, start=40)
    result = engine.scrape(setup.source, asked, store=setup.store, options=options(), config=setup.config)

    assert result.outcome == "ok", result.errors
    assert sorted(result.stored) == sorted(asked)
    assert result.counts["recycles"] >= 1
    assert portal.logins("ops") == 1, "a recycled context starts from the saved session"
    setup.store.dispose()


def test_a_browser_crash_costs_a_batch_not_the_run(
    portal: RunningPortal, setup: Setup, scrape: Scrape, engine: EngineThread
) -> None:
    pool = engine.engine.pool
    killed: list[int] = []

    def crash_after_first_batch(progress: ScrapeProgress) -> None:
        if progress.stored and not killed:
            process = pool.browser_process()
            assert process is not None
            killed.append(process.pid)
            process.kill()

    asked = numbers_of(portal, 10, start=70)
    source = setup.portal_with(batch_size=2, retries=1)
    result = scrape(asked, source=source, progress=crash_after_first_batch)
    assert killed, "the browser was not killed"
    assert_every_container_accounted_for(result, asked)
    assert result.outcome in ("ok", "partial"), result.errors
    assert len(result.stored) >= 2

    after = scrape(asked, source=source)
    assert after.outcome == "ok", after.errors
    assert pool.launches >= 2


def test_cli_scrape_prints_json_and_exits_by_outcome(
    portal: RunningPortal, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_file = tmp_path / "config.yaml"
    config_file.write_text(
        yaml.safe_dump(
            {
                "data_dir": "var",
                "store": {"url": "sqlite:///var/cli.db"},
                "sources": {
                    "portals": [
                        {
                            "name": "terminal",
                            "family": "sandbox",
                            "base_url": portal.url,
                            "time_zone": "America/Los_Angeles",
                            "accounts": [{"username": "ops", "password": "${QUAYSYNC_TEST_PORTAL_PW}"}],
                        }
                    ]
                },
            }
        )
    )
    monkeypatch.setenv("QUAYSYNC_TEST_PORTAL_PW", PASSWORD)
    monkeypatch.setattr(STATE, "config_path", config_file)
    monkeypatch.setattr(STATE, "_config", None)
    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)  # more than one command: typer keeps the command names
    runner = CliRunner()
    asked = numbers_of(portal, 3)

    ok = runner.invoke(app, ["scrape", "terminal", *asked, "--json", "--no-vessels"])
    assert ok.exit_code == 0, ok.output
    document = json.loads(ok.stdout[ok.stdout.index("{") :])
    assert document["outcome"] == "ok" and sorted(document["stored"]) == sorted(asked)
    assert (tmp_path / "var" / "cli.db").exists()

    portal.configure(captcha="search")
    blocked = runner.invoke(app, ["scrape", "terminal", *asked, "--no-vessels", "--json"])
    assert blocked.exit_code == 1, blocked.output
    document = json.loads(blocked.stdout[blocked.stdout.index("{") :])
    assert document["outcome"] == "blocked" and document["blocked"]["ops"]["kind"] == "captcha"

    missing = runner.invoke(app, ["scrape", "nowhere"])
    assert missing.exit_code == 2 and "no portal named" in missing.output
