"""Helpers of the bot tests (imported by conftest and the tests): constants, setups, store counts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bots import ScrapeOptions, ScrapeResult
from quaysync.config import Config, PortalSource, parse_config
from sandbox.portal import PortalOptions, RunningPortal, start_portal
from sandbox.world import DEFAULT_EPOCH
from store import EventRow, ObservationRow, Store, open_store

PASSWORD = "harbour-Pilot-42"
SECOND_PASSWORD = "quay-Crane-77x"
PINNED = DEFAULT_EPOCH + timedelta(days=6, hours=16)  # every lifecycle state is present
KNOB_DEFAULTS = PortalOptions().__dict__
FAST = ScrapeOptions(include_vessels=False, backoff_initial_seconds=0.05, backoff_max_seconds=0.2)


def options(**changes: Any) -> ScrapeOptions:
    return ScrapeOptions(**{**FAST.__dict__, **changes})


def make_portal(**overrides: Any) -> RunningPortal:
    settings: dict[str, Any] = {
        "accounts": {"ops": PASSWORD, "ops2": SECOND_PASSWORD},
        "clock_pinned": PINNED,
        "seed": 7,
        "containers": 120,
    }
    settings.update(overrides)
    return start_portal(PortalOptions(**settings))


@dataclass
class Setup:
    """A test's configuration, store and portal source."""

    config: Config
    store: Store
    source: PortalSource
    data_dir: Path

    def portal_with(self, **changes: Any) -> PortalSource:
        return PortalSource.model_validate({**self.source.model_dump(), **changes})


def build_setup(tmp_path: Path, base_url: str, accounts: list[dict[str, Any]] | None = None,
                **portal: Any) -> Setup:  # fmt: skip
    accounts = accounts or [{"username": "ops", "password": "${PORTAL_PW}"}]
    document = {
        "data_dir": str(tmp_path / "var"),
        "store": {"url": f"sqlite:///{tmp_path / 'quaysync.db'}"},
        "browser": {"recycle_after_pages": portal.pop("recycle_after_pages", 200)},
        "sources": {
            "portals": [
                {
                    "name": "sandbox",
                    "family": "sandbox",
                    "base_url": base_url,
                    "time_zone": "America/Los_Angeles",
                    "timeout": "8s",
                    "retries": 3,
                    "accounts": accounts,
                    **portal,
                }
            ]
        },
    }
    environ = {"PORTAL_PW": PASSWORD, "PORTAL_PW2": SECOND_PASSWORD, "WRONG_PW": "not-the-password"}
    config = parse_config(document, tmp_path, environ=environ)
    store = open_store(config.store_url)
    return Setup(config, store, config.sources.portals[0], tmp_path / "var")


def numbers_of(portal: RunningPortal, count: int, start: int = 0) -> list[str]:
    return [container.container_number for container in portal.world.containers[start : start + count]]


def count_rows(store: Store, row: type, *where: Any) -> int:
    with store.session() as session:
        return session.execute(select(func.count()).select_from(row).where(*where)).scalar_one()


def events(store: Store) -> int:
    return count_rows(store, EventRow)


def observations(store: Store) -> int:
    return count_rows(store, ObservationRow)


def assert_every_container_accounted_for(result: ScrapeResult, asked: list[str]) -> None:
    """Each container asked is stored, not found, or failed with a reason and evidence — once."""
    failed = [failure.container_number for failure in result.failed]
    seen = result.stored + result.not_found + failed
    assert sorted(seen) == sorted(asked), "some container is missing or counted twice"
    for failure in result.failed:
        assert failure.reason, failure
        if failure.reason.startswith("not tried"):
            # Left after the run stopped: the evidence is on the error that stopped it.
            causes = [error for error in result.errors if error["kind"] == failure.kind and error["evidence"]]
            assert causes or failure.kind == "interrupted", failure
        elif failure.kind in ("portal", "layout_changed"):
            assert failure.evidence and all(Path(path).exists() for path in failure.evidence), failure


# The `scrape` fixture's type: run a scrape with the test's setup.
Scrape = Callable[..., ScrapeResult]
