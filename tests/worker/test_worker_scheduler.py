"""The scheduler with its job store in the store's database: ticks fire, missed ticks coalesce, a
tick of a source still running is dropped, and a restarted scheduler keeps its place."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta

import pytest
from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED
from apscheduler.schedulers.background import BackgroundScheduler

from quaysync.config.types import Schedule
from store import Store
from worker import jobs
from worker.scheduler import SOURCES_STORE, build_scheduler, sync_source_jobs
from worker.sources import SourceSpec


class Ticks:
    """Stands in for the worker behind `worker.jobs.run_source`: counts ticks, may hold them."""

    def __init__(self, wanted: int = 1) -> None:
        self.wanted = wanted
        self.keys: list[str] = []
        self.reached = threading.Event()
        self.release = threading.Event()
        self.release.set()
        self.running = 0
        self.most_at_once = 0
        self._lock = threading.Lock()

    def fire(self, key: str, trigger: str = "schedule") -> None:
        with self._lock:
            self.keys.append(key)
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
            if len(self.keys) >= self.wanted:
                self.reached.set()
        try:
            assert self.release.wait(30), "the test never released the tick"
        finally:
            with self._lock:
                self.running -= 1


@pytest.fixture
def ticks() -> Iterator[Ticks]:
    recorder = Ticks()
    jobs.attach(recorder)
    yield recorder
    recorder.release.set()
    jobs.detach(recorder)


@pytest.fixture
def scheduler(sqlite_store: Store) -> Iterator[BackgroundScheduler]:
    running = build_scheduler(sqlite_store)
    running.start(paused=True)
    yield running
    if running.running:
        running.shutdown(wait=True)


def every(seconds: float, name: str = "orders") -> SourceSpec:
    return SourceSpec("import", name, Schedule(f"{seconds}s", interval=timedelta(seconds=seconds)))


def test_a_schedule_fires_its_source(scheduler: BackgroundScheduler, ticks: Ticks) -> None:
    ticks.wanted = 2
    changes = sync_source_jobs(scheduler, [every(1)], first_run_delay=timedelta(0))
    assert changes == {"import:orders": "added"}
    scheduler.resume()
    assert ticks.reached.wait(10), "the source did not run twice on its 1 s schedule"
    assert set(ticks.keys) == {"import:orders"}


def test_missed_ticks_run_once_when_the_scheduler_comes_back(
    scheduler: BackgroundScheduler, ticks: Ticks
) -> None:
    """Down for 35 minutes of a 10-minute schedule: one run at once, not four."""
    sync_source_jobs(scheduler, [every(600)])
    job = scheduler.get_job("import:orders", jobstore=SOURCES_STORE)
    job.modify(next_run_time=datetime.now(UTC) - timedelta(minutes=35))
    scheduler.resume()
    assert ticks.reached.wait(10), "the missed ticks did not run"
    scheduler.shutdown(wait=True)
    assert ticks.keys == ["import:orders"]
    assert job.coalesce and job.max_instances == 1


def test_a_cron_tick_missed_past_its_grace_waits_for_the_next(
    scheduler: BackgroundScheduler, ticks: Ticks
) -> None:
    missed = threading.Event()
    scheduler.add_listener(lambda _event: missed.set(), EVENT_JOB_MISSED)
    spec = SourceSpec("export", "daily", Schedule("0 3 * * *", cron="0 3 * * *"))
    sync_source_jobs(scheduler, [spec])
    job = scheduler.get_job("export:daily", jobstore=SOURCES_STORE)
    job.modify(next_run_time=datetime.now(UTC) - timedelta(hours=3))
    scheduler.resume()
    assert missed.wait(10), "the late tick was neither run nor reported missed"
    scheduler.shutdown(wait=True)
    assert ticks.keys == []


def test_a_tick_while_the_source_still_runs_is_dropped(scheduler: BackgroundScheduler, ticks: Ticks) -> None:
    dropped = threading.Event()
    scheduler.add_listener(lambda _event: dropped.set(), EVENT_JOB_MAX_INSTANCES)
    ticks.release.clear()  # the first run holds on
    sync_source_jobs(scheduler, [every(1)], first_run_delay=timedelta(0))
    scheduler.resume()
    assert ticks.reached.wait(10)
    assert dropped.wait(10), "the second tick was not dropped while the first still ran"
    ticks.release.set()
    scheduler.shutdown(wait=True)
    assert ticks.most_at_once == 1


def test_a_restarted_scheduler_keeps_its_place(any_store: Store) -> None:
    """Jobs persist in the store's database (SQLite and PostgreSQL): same next run after a restart;
    a changed schedule is rebuilt, a removed source's job goes."""
    first = build_scheduler(any_store)
    first.start(paused=True)
    sync_source_jobs(first, [every(3600), every(600, "links")])
    planned = first.get_job("import:orders").next_run_time
    assert planned > datetime.now(UTC)
    first.shutdown(wait=False)

    second = build_scheduler(any_store)
    second.start(paused=True)
    try:
        changes = sync_source_jobs(second, [every(3600), every(300, "links")])
        assert changes == {"import:orders": "kept", "import:links": "rescheduled"}
        kept = second.get_job("import:orders")
        assert abs((kept.next_run_time - planned).total_seconds()) < 0.001
        assert "schedule=300s" in second.get_job("import:links").name
        assert sync_source_jobs(second, [every(3600)]) == {"import:links": "removed", "import:orders": "kept"}
        assert [job.id for job in second.get_jobs(jobstore=SOURCES_STORE)] == ["import:orders"]
    finally:
        second.shutdown(wait=False)


def test_active_hours_move_a_new_jobs_first_run_into_the_window(scheduler: BackgroundScheduler) -> None:
    from zoneinfo import ZoneInfo

    from quaysync.config.types import HoursWindow

    zone = ZoneInfo("Pacific/Kiritimati")  # any zone: the window is the hour that is not now
    now = datetime.now(UTC)
    local_hour = now.astimezone(zone).hour
    start = (local_hour + 2) % 24
    window = HoursWindow(time(start), time((start + 1) % 24))
    spec = SourceSpec(
        "portal",
        "night",
        Schedule("1m", interval=timedelta(minutes=1)),
        active_hours=window,
        time_zone="Pacific/Kiritimati",
    )
    sync_source_jobs(scheduler, [spec], now=now)
    first = scheduler.get_job("portal:night").next_run_time
    assert first.astimezone(zone).hour == start
    assert first - now > timedelta(minutes=59)
