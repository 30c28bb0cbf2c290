"""`run.py sources`: each source's schedule and state, read from the store (no worker needed)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from quaysync.config import Config
from store import ContainerStatusRow, RunRow, Store
from store.locks import live_holders
from store.tables_worker import apscheduler_jobs
from worker.control import all_blocked, paused_sources
from worker.sources import configured_sources


def sources_overview(config: Config, store: Store) -> dict[str, Any]:
    with store.session() as session:
        next_runs = {
            job_id: datetime.fromtimestamp(moment, UTC) if moment is not None else None
            for job_id, moment in session.execute(
                select(apscheduler_jobs.c.id, apscheduler_jobs.c.next_run_time)
            ).all()
        }
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
                .where(RunRow.outcome.in_(("ok", "partial")))
                .group_by(RunRow.source)
            ).all()
        )
        paused = paused_sources(session)
        blocked = all_blocked(session)
        tracking = dict(
            session.execute(
                select(ContainerStatusRow.tracking, func.count()).group_by(ContainerStatusRow.tracking)
            ).all()
        )
    holders = live_holders(store)
    sources = []
    for spec in configured_sources(config):
        key = spec.key
        states = []
        if not spec.enabled:
            states.append("disabled")
        if key in paused:
            states.append(f"paused since {paused[key].get('since', '?')[:19]}")
        for account, entry in sorted(blocked.get(key, {}).items()):
            states.append(f"blocked {account} ({entry.get('kind')}): {entry.get('action')}")
        if key in holders:
            holder = holders[key]
            states.append(
                f"{holder.get('note', 'running')} by {holder.get('owner')} (pid {holder.get('pid')})"
            )
        last = last_runs.get(key)
        sources.append(
            {
                "source": key,
                "schedule": str(spec.schedule) if spec.schedule else None,
                "watched": spec.watched,
                "next_run_at": next_runs.get(key),
                "paused": key in paused,
                "blocked": blocked.get(key, {}),
                "holder": holders.get(key),
                "state": "; ".join(states) or "idle",
                "last_run": None
                if last is None
                else {"id": last.id, "outcome": last.outcome, "started_at": last.started_at},
                "last_success_at": successes.get(key),
            }
        )
    return {
        "sources": sources,
        "tracking": {state: int(tracking.get(state, 0)) for state in ("active", "stale", "final")},
        "stop_tracking_after": f"{config.sync.stop_tracking_after.days} d"
        if config.sync.stop_tracking_after.days
        else str(config.sync.stop_tracking_after),
    }
