"""`python run.py run` as a real process on the embedded default: data within a minute, and a
clean stop on SIGTERM in the middle of a scrape (no Chromium left, the run recorded as interrupted)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from worker_helpers import alive_after_exit, embedded_config, run_cli, start_worker, wait_for

pytestmark = pytest.mark.browser


def _store_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'var' / 'quaysync.db'}"


def test_the_first_command_shows_containers_within_a_minute(tmp_path: Path) -> None:
    """What a newcomer runs (scripts/run = setup + `run.py run`) shows containers within 60 s."""
    path = embedded_config(tmp_path)
    started = time.monotonic()
    worker = start_worker(path)
    try:

        def still_running() -> None:
            if worker.process.poll() is not None:
                raise AssertionError(
                    f"the worker exited ({worker.process.returncode}):\n{worker.logs()[-4000:]}"
                )

        def banner_key() -> str | None:
            still_running()
            return worker.api_key()

        key = wait_for(banner_key, 60, "the banner with the API key")
        headers = {"Authorization": f"Bearer {key}"}

        def containers() -> list[dict] | None:
            still_running()
            try:
                response = httpx.get(f"{worker.api_url}/containers", headers=headers, timeout=5)
            except httpx.HTTPError:
                return None
            return response.json()["items"] if response.status_code == 200 else None

        items = wait_for(containers, max(60 - (time.monotonic() - started), 1), "containers in the API")
        elapsed = time.monotonic() - started
        assert elapsed < 60, f"containers appeared after {elapsed:.0f} s"
        number = items[0]["container_number"]

        status = run_cli("status", number, "--json", config_path=path)
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["container_number"] == number

        health = httpx.get(f"{worker.api_url}/health", timeout=10)
        assert health.status_code == 200, health.text
        sources = {item["source"]: item for item in health.json()["sources"]}
        assert sources["mail:carrier-inbox"]["running"] is True  # watched (IMAP IDLE)
        metrics = httpx.get(f"{worker.api_url}/metrics", timeout=10)
        assert metrics.status_code == 200 and "quaysync_scheduler_up 1.0" in metrics.text
        assert 'quaysync_containers{tracking="active"} 0.0' not in metrics.text

        seconds = worker.terminate()
        assert seconds < 10 and worker.process.returncode == 0, worker.logs()[-4000:]
        assert "worker stopped" in worker.logs()
    finally:
        worker.kill()


def test_sigterm_mid_scrape_stops_cleanly_within_ten_seconds(tmp_path: Path) -> None:
    """A portal with slow pages is being scraped when SIGTERM comes: the process exits within 10 s,
    no browser process it started is left, and the run is recorded as interrupted."""
    path = embedded_config(tmp_path, sandbox={"latency": "1s"}, portal={"schedule": "2s", "jitter": "0s"})
    worker = start_worker(path, args=("--no-api",))
    engine = create_engine(_store_url(tmp_path))
    try:

        def scrape_running() -> int | None:
            if worker.process.poll() is not None:
                raise AssertionError(f"the worker exited:\n{worker.logs()[-4000:]}")
            try:
                with engine.connect() as connection:
                    return connection.execute(
                        text("SELECT id FROM run WHERE source = 'portal:sandbox' AND outcome = 'running'")
                    ).scalar()
            except Exception:  # the store is not created yet
                return None

        run_id = wait_for(scrape_running, 60, "a scrape in progress")
        # Be sure the browser is up and mid-page: the run is at least a page in.
        browsers = wait_for(
            lambda: worker.descendants_named("chrom"),
            30,
            "Chromium under the worker",
        )
        assert browsers
        everything = worker.descendants()
        seconds = worker.terminate(timeout=20)
        assert seconds < 10, f"took {seconds:.1f} s to stop"
        assert worker.process.returncode == 0, worker.logs()[-4000:]
        left = alive_after_exit(everything)
        assert left == [], f"processes left behind by the worker: {left}"
        with engine.connect() as connection:
            outcome, ended = connection.execute(
                text("SELECT outcome, ended_at FROM run WHERE id = :id"), {"id": run_id}
            ).one()
            still_running = connection.execute(
                text("SELECT count(*) FROM run WHERE outcome = 'running'")
            ).scalar()
        assert outcome == "interrupted" and ended is not None
        assert still_running == 0
    finally:
        engine.dispose()
        worker.kill()
