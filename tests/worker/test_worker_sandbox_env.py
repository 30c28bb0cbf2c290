"""The embedded world is anchored to the real date, so the demo's news never ages into 'stale'."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from worker_helpers import embedded_config

from quaysync.config import load_config
from quaysync.errors import ConfigError
from sandbox.world import START_AFTER_EPOCH
from worker.sandbox_env import SandboxEnvironment, world_epoch


@pytest.mark.parametrize(
    ("now", "epoch"),
    [
        (datetime(2026, 12, 4, 18, 33, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)),
        (datetime(2027, 3, 1, 0, 0, tzinfo=UTC), datetime(2027, 2, 26, tzinfo=UTC)),
        # A zoned moment counts by its UTC day: 23:30 at UTC-5 is 04:30 UTC the next day.
        (
            datetime(2026, 12, 31, 23, 30, tzinfo=timezone(timedelta(hours=-5))),
            datetime(2026, 12, 29, tzinfo=UTC),
        ),
    ],
)
def test_the_epoch_is_three_days_before_the_start_of_the_utc_day(now: datetime, epoch: datetime) -> None:
    assert world_epoch(now) == epoch


def test_the_embedded_world_runs_near_the_real_clock(tmp_path: Path) -> None:
    config = load_config(embedded_config(tmp_path, sources={"mailboxes": []}))
    environment = SandboxEnvironment(config)
    environment.start()
    try:
        portal = environment.portal
        world_now = portal.clock.now()
        real_now = datetime.now(UTC)
        # World time starts at the start of today (UTC) and runs ahead at an hour a minute.
        assert real_now - timedelta(days=1) <= world_now <= real_now + timedelta(hours=1)
        start_of_day = world_now.replace(hour=0, minute=0, second=0, microsecond=0)
        assert portal.world.epoch == start_of_day - START_AFTER_EPOCH
    finally:
        environment.stop()


def test_a_configured_epoch_is_kept_and_must_carry_a_zone(tmp_path: Path) -> None:
    fixed = "2026-11-01T08:00:00+00:00"
    config = load_config(embedded_config(tmp_path, sandbox={"epoch": fixed}))
    assert config.sandbox.epoch == datetime(2026, 11, 1, 8, tzinfo=UTC)
    (tmp_path / "naive").mkdir()
    with pytest.raises(ConfigError, match=r"sandbox\.epoch"):
        load_config(embedded_config(tmp_path / "naive", sandbox={"epoch": "2026-11-01T08:00:00"}))
