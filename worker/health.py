"""`/health`: is the worker doing its job? 200 while it is (status ok or degraded), 503 when not.

    status "down"      (503)  the scheduler is not running, or the store cannot be read
    status "degraded"  (200)  the process works, but a source is stale (no successful run for
                              3 periods of its schedule, at least 5 minutes) or an account is
                              blocked: a person should look
    status "ok"        (200)

The document lists each source (schedule, next run, paused, running, last run, last success,
stale, blocked accounts with what to do) and the containers by tracking state (active, stale —
no news for `sync.stop_tracking_after`, final — empty returned).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import func, select

from store import ContainerStatusRow, RunRow
from worker.control import all_blocked, paused_sources
from worker.triggers import period

if TYPE_CHECKING:
    from worker.service import Worker

log = logging.getLogger(__name__)

STALE_PERIODS = 3
STALE_AT_LEAST = timedelta(minutes=5)
SUCCESS = ("ok", "partial")


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment is not None else None


def stale_after(worker: Worker, key: str) -> timedelta | None:
    spec = worker.specs[key]
    if spec.schedule is None or not spec.enabled:
        return None
    return max(STALE_PERIODS * period(spec.schedule, spec.time_zone), STALE_AT_LEAST)


def health_document(worker: Worker, now: datetime | None = None) -> tuple[int, dict[str, Any]]:
    now = now or datetime.now(UTC)
    alive = worker.scheduler_alive()
    document: dict[str, Any] = {
        "status": "ok",
        "checked_at": now.isoformat(),
        "scheduler": {"alive": alive, "started_at": _iso(worker.started_at), "jobs": []},
        "store": {"reachable": True},
    }
    next_runs = worker.next_runs()
    document["scheduler"]["jobs"] = [
        {"id": job_id, "next_run_at": _iso(moment)} for job_id, moment in sorted(next_runs.items())
    ]
    try:
        with worker.store.session() as session:
            last_runs = {
                row.source: row
                for row in session.execute(
                    select(RunRow).where(
                        RunRow.id.in_(select(func.max(RunRow.id)).group_by(RunRow.source).scalar_subquery())
                    )
                ).scalars()
            }
            successes = dict(
                session.execute(
                    select(RunRow.source, func.max(RunRow.ended_at))
                    .where(RunRow.outcome.in_(SUCCESS))
                    .group_by(RunRow.source)
                ).all()
            )
            paused = paused_sources(session)
            blocked = all_blocked(session, now)
            tracking = dict(
                session.execute(
                    select(ContainerStatusRow.tracking, func.count()).group_by(ContainerStatusRow.tracking)
                ).all()
            )
    except Exception as error:
        log.exception("health: reading the store failed")
        document["store"] = {"reachable": False, "error": f"{type(error).__name__}"}
        document["status"] = "down"
        return 503, document

    running = worker.running_sources()
    uptime = now - (worker.started_at or now)
    sources = []
    stale_sources = []
    for key, spec in worker.specs.items():
        last = last_runs.get(key)
        success = successes.get(key)
        limit = stale_after(worker, key)
        is_paused = key in paused
        stale = False
        if limit is not None and not is_paused and not blocked.get(key):
            since = success or (worker.started_at if uptime > limit else None)
            stale = since is not None and now - since > limit
        if stale:
            stale_sources.append(key)
        sources.append(
            {
                "source": key,
                "enabled": spec.enabled,
                "schedule": str(spec.schedule) if spec.schedule else None,
                "watched": spec.watched,
                "next_run_at": _iso(next_runs.get(key)),
                "paused": is_paused,
                "running": key in running,
                "running_since": _iso(running.get(key)),
                "last_run": None
                if last is None
                else {
                    "id": last.id,
                    "outcome": last.outcome,
                    "started_at": _iso(last.started_at),
                    "ended_at": _iso(last.ended_at),
                },
                "last_success_at": _iso(success),
                "stale": stale,
                "stale_after_seconds": limit.total_seconds() if limit is not None else None,
                "blocked": {
                    account: {
                        name: entry.get(name) for name in ("kind", "reason", "action", "since", "until")
                    }
                    for account, entry in blocked.get(key, {}).items()
                },
            }
        )
    document["sources"] = sources
    document["stale_sources"] = stale_sources
    document["blocked_accounts"] = [
        {"source": source, "account": account, "kind": entry.get("kind"), "action": entry.get("action")}
        for source, entries in sorted(blocked.items())
        for account, entry in sorted(entries.items())
    ]
    document["tracking"] = {state: int(tracking.get(state, 0)) for state in ("active", "stale", "final")}
    if not alive:
        document["status"] = "down"
        return 503, document
    if stale_sources or blocked:
        document["status"] = "degraded"
    return 200, document


def health_router(worker: Worker) -> APIRouter:
    router = APIRouter(tags=["worker"])

    @router.get("/health", summary="Whether the worker runs: scheduler, sources, blocked accounts")
    async def health() -> JSONResponse:
        code, document = await run_in_threadpool(health_document, worker)
        return JSONResponse(document, status_code=code, headers={"Cache-Control": "no-store"})

    return router
