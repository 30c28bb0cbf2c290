"""Run history for `run.py runs`: the `run` table, newest first, filtered."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select

from quaysync.config import parse_duration
from quaysync.errors import BadInputError
from store import RunRow, Store


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """'2h', '3d' (ago), '2026-11-20' or an ISO date and time (UTC unless it says otherwise)."""
    now = now or datetime.now(UTC)
    duration = parse_duration(text)
    if duration is not None:
        return now - duration
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
            return datetime.combine(date.fromisoformat(text.strip()), datetime.min.time(), tzinfo=UTC)
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise BadInputError(f"--since {text!r}: give a duration (2h, 3d) or an ISO date / time") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def source_pattern(text: str) -> tuple[str, bool]:
    """A --source value: an exact source, or a prefix ('portal:' or a bare name matches kind:name)."""
    value = text.strip()
    return value, ":" not in value or value.endswith(":")


def list_runs(
    store: Store,
    *,
    source: str | None = None,
    kind: str | None = None,
    outcome: str | None = None,
    since: datetime | None = None,
    limit: int = 20,
) -> list[dict[str, Any]]:
    query = select(RunRow).order_by(RunRow.id.desc()).limit(limit)
    if source:
        value, loose = source_pattern(source)
        if not loose:
            query = query.where(RunRow.source == value)
        elif value.endswith(":"):
            query = query.where(RunRow.source.startswith(value))
        else:  # a bare name: any kind of source of that name
            query = query.where((RunRow.source == value) | RunRow.source.endswith(f":{value}"))
    if kind:
        query = query.where(RunRow.kind == kind)
    if outcome:
        query = query.where(RunRow.outcome == outcome)
    if since:
        query = query.where(RunRow.started_at >= since)
    with store.session() as session:
        rows = session.execute(query).scalars().all()
    return [run_document(row) for row in rows]


def run_document(row: RunRow) -> dict[str, Any]:
    duration = (row.ended_at - row.started_at).total_seconds() if row.ended_at is not None else None
    return {
        "id": row.id,
        "source": row.source,
        "kind": row.kind,
        "trigger": row.trigger,
        "started_at": row.started_at,
        "ended_at": row.ended_at,
        "duration_seconds": round(duration, 3) if duration is not None else None,
        "outcome": row.outcome,
        "counts": row.counts or {},
        "errors": row.errors or [],
        "evidence": row.evidence or [],
    }


# The counts worth a column, per kind of run; the rest are in --json.
SHOWN_COUNTS = {
    "scrape": ("containers", "stored", "not_found", "failed", "pages"),
    "mail": ("fetched", "stored", "quarantined", "added_events"),
    "import": ("rows", "containers", "links_added", "problems"),
    "export": ("containers", "workbooks"),
    "rules": ("containers", "tracking_changed", "alerts_opened", "messages_queued"),
    "notify": ("sent", "failed", "dead"),
}


def counts_text(kind: str, counts: dict[str, Any]) -> str:
    names = SHOWN_COUNTS.get(kind) or tuple(counts)[:5]
    return " ".join(f"{name}={counts[name]}" for name in names if name in counts)


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "running"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} m {rest:02d} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} m"


def errors_text(errors: list[dict[str, Any]], width: int = 90) -> str:
    if not errors:
        return ""
    first = errors[0]
    text = f"{first.get('kind', '?')}: {first.get('message', '')}"
    if first.get("subject"):
        text = f"{first['subject']} — {text}"
    if len(text) > width:
        text = text[: width - 1] + "…"
    return text + (f" (+{len(errors) - 1} more)" if len(errors) > 1 else "")
