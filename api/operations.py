"""Read-only queries over what the worker did and what it raised: runs and alerts (with the
delivery state of each alert's messages). Plain functions of a Session returning JSON-able dicts,
like api.queries, for the HTTP routes and the CLI.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session

from api.paging import Page, fetch_page, fingerprint
from store.tables import AlertRow, OutboxRow, RunRow


def _newest_first(
    session: Session,
    statement: Select[Any],
    key: ColumnElement[Any],
    filters: dict[str, Any],
    limit: int,
    cursor: str | None,
) -> Page:
    """One page of rows of one table, newest (highest `key`) first; the cursor is bound to the filters."""
    return fetch_page(
        session,
        statement,
        [key],
        lambda row: (row[0].id,),
        limit=limit,
        cursor=cursor,
        query=fingerprint(filters),
        descending=True,
    )


def list_runs(
    session: Session,
    *,
    source: str | None = None,
    kind: str | None = None,
    outcome: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> dict[str, Any]:
    """Runs, newest first."""
    filters = {"source": source, "kind": kind, "outcome": outcome}
    statement = select(RunRow)
    for name, value in filters.items():
        if value:
            statement = statement.where(getattr(RunRow, name) == value)
    page = _newest_first(session, statement, RunRow.id, filters, limit, cursor)
    return {
        "items": [row[0].model_dump() for row in page.rows],
        "next_cursor": page.next_cursor,
        "prev_cursor": page.prev_cursor,
    }


def _delivery(item: OutboxRow) -> dict[str, Any]:
    return {
        "channel": item.channel,
        "kind": item.kind,
        "state": item.state,
        "attempts": item.attempts,
        "next_attempt_at": item.next_attempt_at,
        "last_error": item.last_error,
        "sent_at": item.sent_at,
    }


def list_alerts(
    session: Session,
    *,
    state: str | None = None,
    rule: str | None = None,
    subject: str | None = None,
    light: str | None = None,
    kind: str | None = None,
    since: datetime | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> dict[str, Any]:
    """Alerts, newest first, each with the delivery state of what it sent (from the outbox)."""
    filters = {"state": state, "rule": rule, "subject": subject, "light": light, "kind": kind, "since": since}
    statement = select(AlertRow)
    for name in ("state", "rule", "subject", "light", "kind"):
        if filters[name]:
            statement = statement.where(getattr(AlertRow, name) == filters[name])
    if since:
        statement = statement.where(AlertRow.created_at >= since)
    page = _newest_first(session, statement, AlertRow.id, filters, limit, cursor)
    alerts = [row[0] for row in page.rows]
    deliveries: dict[int, list[dict[str, Any]]] = {}
    if alerts:
        items = session.execute(
            select(OutboxRow)
            .where(OutboxRow.alert_id.in_([alert.id for alert in alerts]))
            .order_by(OutboxRow.id)
        ).scalars()
        for item in items:
            assert item.alert_id is not None
            deliveries.setdefault(item.alert_id, []).append(_delivery(item))
    return {
        "items": [
            {**alert.model_dump(), "deliveries": deliveries.get(alert.id or 0, [])} for alert in alerts
        ],
        "next_cursor": page.next_cursor,
        "prev_cursor": page.prev_cursor,
    }
