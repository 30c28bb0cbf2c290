"""Run bookkeeping: every scrape, mail poll, import, export and notification pass is a row."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from store.tables import RunRow

OUTCOMES = ("running", "ok", "partial", "failed", "blocked", "layout_changed", "interrupted")


def start_run(session: Session, source: str, kind: str, trigger: str = "manual") -> int:
    """Record a run as started (committed with the caller's transaction); its id."""
    run = RunRow(source=source, kind=kind, trigger=trigger, started_at=datetime.now(UTC))
    session.add(run)
    session.flush()
    assert run.id is not None
    return run.id


def finish_run(
    session: Session,
    run_id: int,
    outcome: str,
    counts: dict[str, Any] | None = None,
    errors: list[dict[str, Any]] | None = None,
    evidence: list[str] | None = None,
) -> None:
    """Close a run. `errors` items: {"kind": taxonomy word, "message", "subject", "evidence"}."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown run outcome {outcome!r}")
    session.execute(
        update(RunRow)
        .where(RunRow.id == run_id)
        .values(
            ended_at=datetime.now(UTC),
            outcome=outcome,
            counts=counts or {},
            errors=errors or [],
            evidence=evidence or [],
        )
    )


def interrupt_running(session: Session, source: str | None = None) -> int:
    """Mark runs left 'running' by a process that died as interrupted; how many."""
    statement = update(RunRow).where(RunRow.outcome == "running")
    if source is not None:
        statement = statement.where(RunRow.source == source)
    result = session.execute(statement.values(outcome="interrupted", ended_at=datetime.now(UTC)))
    return result.rowcount or 0
