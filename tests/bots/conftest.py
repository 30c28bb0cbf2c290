"""Fixtures of the bot tests: one Chromium for the suite, a sandbox portal per module, a store per test.

The sandbox portal is real (loopback HTTP, free port, pinned clock); the store is a real SQLite
file; the browser is the real Chromium. Knobs, counters, sessions and locks of the module's portal
are reset before each test.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bot_helpers import FAST, KNOB_DEFAULTS, Scrape, Setup, build_setup, make_portal

from bots import EngineThread, ScrapeOptions, ScrapeResult
from bots.browser import launched_processes
from quaysync.config import PortalSource, parse_config
from sandbox.portal import RunningPortal

_KNOBS = (
    "latency", "error_rate", "error_every", "hang_rate", "hang_every", "hang_seconds",
    "session_idle_seconds", "session_max_age_seconds", "session_expire_after_requests", "max_search",
    "page_size", "lock_after_failures", "maintenance", "maintenance_hours", "captcha", "layout",
    "viewstate_window",
)  # fmt: skip


@pytest.fixture(scope="session")
def no_orphans() -> Iterator[None]:
    """After the suite, no Chromium or Playwright driver started by the bots is still running."""
    yield
    deadline = time.monotonic() + 10
    alive = [mark for mark in launched_processes() if mark.alive()]
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = [mark for mark in alive if mark.alive()]
    assert launched_processes(), "the suite launched no browser: the orphan check checked nothing"
    assert not alive, f"orphaned browser processes: {sorted(mark.pid for mark in alive)}"


@pytest.fixture(scope="session")
def engine(no_orphans: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineThread]:
    """One BotEngine (one Chromium) for the whole bots suite; each test passes its own config."""
    config = parse_config({"data_dir": str(tmp_path_factory.mktemp("engine"))}, Path("."))
    with EngineThread(config) as running:
        yield running


@pytest.fixture(scope="module")
def portal() -> Iterator[RunningPortal]:
    running = make_portal()
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def fresh_portal(request: pytest.FixtureRequest) -> None:
    """Every test starts from a calm portal: default knobs, no sessions, counters at zero."""
    if "portal" not in request.fixturenames:
        return
    running: RunningPortal = request.getfixturevalue("portal")
    running.configure(**{name: KNOB_DEFAULTS[name] for name in _KNOBS})
    running.reset_sessions()
    running.reset_counters()
    for username in ("ops", "ops2", "nobody"):
        running.unlock(username)


@pytest.fixture
def setup(tmp_path: Path, portal: RunningPortal) -> Iterator[Setup]:
    built = build_setup(tmp_path, portal.url)
    yield built
    built.store.dispose()


@pytest.fixture
def scrape(engine: EngineThread, setup: Setup) -> Scrape:
    """Run a scrape on the shared engine with the test's config and store."""

    def run(numbers: list[str] | None, *, source: PortalSource | None = None,
            options: ScrapeOptions = FAST, **kwargs: Any) -> ScrapeResult:  # fmt: skip
        return engine.scrape(
            source or setup.source, numbers, store=setup.store, options=options, config=setup.config, **kwargs
        )

    return run
