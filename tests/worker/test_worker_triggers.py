"""Triggers from schedules: crontab weekdays, jitter, active hours, and surviving the job store's pickle."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from quaysync.config import parse_config
from quaysync.config.types import HoursWindow, Schedule
from worker.sources import find_source
from worker.triggers import WindowTrigger, build_trigger, cron_day_of_week, period

LA = ZoneInfo("America/Los_Angeles")


def interval(seconds: float) -> Schedule:
    return Schedule(f"{seconds}s", interval=timedelta(seconds=seconds))


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("*", "*"),
        ("1-5", "mon,tue,wed,thu,fri"),
        ("0", "sun"),
        ("7", "sun"),
        ("5-7", "sun,fri,sat"),
        ("sat,sun", "sun,sat"),
        ("*/2", "sun,tue,thu,sat"),
    ],
)
def test_crontab_weekdays_keep_their_crontab_meaning(field: str, expected: str) -> None:
    assert cron_day_of_week(field) == expected


def test_a_cron_schedule_runs_in_the_sources_zone_on_weekdays() -> None:
    trigger = build_trigger(Schedule("0 7 * * 1-5", cron="0 7 * * 1-5"), time_zone="America/Los_Angeles")
    friday_evening = datetime(2026, 11, 20, 20, 0, tzinfo=LA)  # a Friday
    first = trigger.get_next_fire_time(None, friday_evening)
    assert first == datetime(2026, 11, 23, 7, 0, tzinfo=LA)  # Monday 07:00 at the terminal
    assert first.weekday() == 0


def test_jitter_delays_each_tick_by_at_most_the_jitter() -> None:
    start = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    trigger = build_trigger(interval(60), jitter=timedelta(seconds=5), start_date=start)
    delays = []
    previous = None
    for tick in range(50):
        fire = trigger.get_next_fire_time(previous, start)
        assert fire is not None
        base = start + timedelta(seconds=60 * tick)  # the un-jittered tick
        delays.append((fire - base).total_seconds())
        previous = base
    assert all(0 <= delay <= 5 for delay in delays)
    assert len({round(delay, 3) for delay in delays}) > 10  # it really varies


def test_active_hours_skip_ticks_outside_the_window() -> None:
    window = HoursWindow(time(6, 0), time(22, 0))
    trigger = build_trigger(
        interval(600),
        time_zone="America/Los_Angeles",
        active_hours=window,
        start_date=datetime(2026, 11, 1, tzinfo=UTC),
    )
    late = datetime(2026, 11, 20, 21, 55, tzinfo=LA)
    first = trigger.get_next_fire_time(None, late)
    assert first is not None
    local = first.astimezone(LA)
    assert (local.date(), local.time() >= time(6, 0), local.time() < time(6, 10)) == (
        datetime(2026, 11, 21).date(),
        True,
        True,
    )
    # inside the window the inner schedule is kept as it is
    noon = datetime(2026, 11, 20, 12, 0, 30, tzinfo=LA)
    inside = trigger.get_next_fire_time(None, noon)
    assert inside is not None and inside - noon <= timedelta(seconds=600)


def test_a_window_past_midnight_is_honoured() -> None:
    window = HoursWindow(time(22, 0), time(2, 0))
    inner = build_trigger(interval(3600), start_date=datetime(2026, 11, 1, tzinfo=UTC))
    trigger = WindowTrigger(inner, window, "Asia/Shanghai")
    moments = []
    previous = None
    now = datetime(2026, 11, 20, 0, 30, tzinfo=UTC)
    for _ in range(8):
        fire = trigger.get_next_fire_time(previous, now)
        assert fire is not None
        moments.append(fire.astimezone(ZoneInfo("Asia/Shanghai")).time())
        previous = now = fire
    assert all(moment >= time(22, 0) or moment < time(2, 0) for moment in moments)


def test_triggers_survive_the_job_store_pickle() -> None:
    window = HoursWindow(time(6, 0), time(22, 0))
    trigger = build_trigger(
        Schedule("*/5 * * * *", cron="*/5 * * * *"),
        time_zone="America/Los_Angeles",
        jitter=timedelta(seconds=3),
        active_hours=window,
    )
    again = pickle.loads(pickle.dumps(trigger))
    now = datetime(2026, 11, 20, 23, 0, tzinfo=LA)
    assert isinstance(again, WindowTrigger)
    fire = again.get_next_fire_time(None, now)
    assert fire is not None and fire.astimezone(LA).time() >= time(6, 0)


def test_period_of_a_cron_schedule() -> None:
    assert period(Schedule("0 * * * *", cron="0 * * * *")) == timedelta(hours=1)
    assert period(interval(90)) == timedelta(seconds=90)


def test_sources_are_found_by_key_or_unambiguous_name(tmp_path) -> None:
    config = parse_config(
        {
            "sources": {
                "imports": [{"name": "orders", "path": "in/*.xlsx", "schedule": "5m"}],
            },
            "exports": [{"name": "orders", "path": "out.xlsx"}, {"name": "daily", "path": "d.xlsx"}],
        },
        tmp_path,
    )
    assert find_source(config, "daily").key == "export:daily"
    assert find_source(config, "import:orders").schedule is not None
    from quaysync.errors import BadInputError

    with pytest.raises(BadInputError, match="more than one source"):
        find_source(config, "orders")
    with pytest.raises(BadInputError, match="no source"):
        find_source(config, "portal:nope")
