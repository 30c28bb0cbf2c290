"""APScheduler 3.x for the worker: one persisted job per scheduled source, plus the clock jobs.

- Source jobs live in the store's own database (`apscheduler_jobs`, see store/tables_worker.py)
  through APScheduler's SQLAlchemyJobStore: a restarted worker finds each job with its next run
  time and keeps its place. A job is rebuilt only when its source's schedule changed in the
  config (its `name` holds the schedule's signature); jobs of sources no longer configured go.
- Every job: `max_instances=1` (a tick while the source still runs is dropped, never stacked),
  `coalesce=True` (ticks missed while the worker was down run once), `misfire_grace_time` (a
  missed tick older than that is skipped, the next one counts).
- Clock jobs (rules, outbox delivery, housekeeping) are bound methods in a memory job store:
  they need no place kept, every start runs them afresh.

Job functions must be importable by name for the persisted store, hence `worker.jobs.run_source`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from store import Store
from store.tables_worker import JOBS_TABLE
from worker.sources import SourceSpec
from worker.triggers import build_trigger

log = logging.getLogger(__name__)

SOURCES_STORE = "default"
CLOCK_STORE = "clock"
FIRST_RUN_DELAY = timedelta(seconds=10)  # a new interval job's first run, at most this soon


def misfire_grace(spec: SourceSpec) -> int:
    """Seconds a missed tick may still run late. Interval: at least an hour and one interval, so a
    restarted worker catches up once (coalesced) at once; cron: an hour (a daily 06:00 run missed
    by a worker down all morning waits for tomorrow)."""
    if spec.schedule is not None and spec.schedule.interval is not None:
        return int(max(3600, spec.schedule.interval.total_seconds()))
    return 3600


def build_scheduler(store: Store, *, workers: int = 8) -> BackgroundScheduler:
    return BackgroundScheduler(
        jobstores={
            SOURCES_STORE: SQLAlchemyJobStore(engine=store.engine, tablename=JOBS_TABLE),
            CLOCK_STORE: MemoryJobStore(),
        },
        executors={"default": ThreadPoolExecutor(max_workers=workers)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
        timezone=UTC,
        daemon=True,
    )


def _first_run(spec: SourceSpec, trigger: Any, now: datetime, first_run_delay: timedelta) -> datetime | None:
    """When a job new to the store first runs: soon for an interval (inside its active hours), at
    its first tick for a cron expression."""
    natural = trigger.get_next_fire_time(None, now)
    if spec.schedule is None or spec.schedule.interval is None:
        return natural
    soon = now + min(spec.schedule.interval, first_run_delay)
    inside = getattr(trigger, "inside", None)
    if inside is not None and not inside(soon):
        return natural
    return min(soon, natural) if natural is not None else soon


def sync_source_jobs(
    scheduler: BackgroundScheduler,
    specs: Iterable[SourceSpec],
    *,
    now: datetime | None = None,
    first_run_delay: timedelta = FIRST_RUN_DELAY,
) -> dict[str, str]:
    """Make the persisted jobs match the configured sources. Returns source → kept / added /
    rescheduled / removed. Call with the scheduler started (paused), so the store is readable."""
    now = now or datetime.now(UTC)
    wanted = {spec.key: spec for spec in specs if spec.scheduled}
    changes: dict[str, str] = {}
    for job in scheduler.get_jobs(jobstore=SOURCES_STORE):
        if job.id not in wanted:
            job.remove()
            changes[job.id] = "removed"
    for key, spec in wanted.items():
        assert spec.schedule is not None
        existing = scheduler.get_job(key, jobstore=SOURCES_STORE)
        signature = spec.signature()
        if existing is not None and existing.name == signature:
            changes[key] = "kept"
            continue
        trigger = build_trigger(
            spec.schedule, time_zone=spec.time_zone, jitter=spec.jitter, active_hours=spec.active_hours
        )
        scheduler.add_job(
            "worker.jobs:run_source",
            trigger=trigger,
            args=[key],
            id=key,
            name=signature,
            jobstore=SOURCES_STORE,
            replace_existing=True,
            misfire_grace_time=misfire_grace(spec),
            next_run_time=_first_run(spec, trigger, now, first_run_delay),
        )
        changes[key] = "rescheduled" if existing is not None else "added"
    return changes


def job_times(scheduler: BackgroundScheduler | None) -> dict[str, datetime | None]:
    """Job id → next run time (None: paused) for every job."""
    if scheduler is None:
        return {}
    try:
        return {job.id: job.next_run_time for job in scheduler.get_jobs()}
    except Exception:  # the store is unreachable: /health reports it elsewhere
        log.exception("reading the scheduler's jobs failed")
        return {}
