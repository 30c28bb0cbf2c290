"""Hotspots: exceptions (alerts) counted by terminal, carrier, route and ISO week.

    hotspots(session, since=datetime(2026, 11, 1, tzinfo=UTC), group_by=("terminal", "week"))
    → [{"terminal": "LBCT", "week": "2026-W47", "alerts": 12, "red": 3, "amber": 9, "green": 0,
        "open": 5, "rules": {"lfd_within": 7, ...}}, ...]      most alerts first

An alert about a container takes its terminal and carrier from the container's status and its
route (port of loading → port of discharge) from the container's B/L; an alert about a B/L takes
them from the B/L; whatever the alert's context names wins over both (a rule that knew better).
Unknown parts are null and counted as their own group, so nothing goes missing from the totals.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.tables import AlertRow, ContainerStatusRow, ShipmentRow

DIMENSIONS = ("terminal", "carrier", "route", "week")

_ALERTS = AlertRow.__table__
_STATUS = ContainerStatusRow.__table__
_SHIPMENTS = ShipmentRow.__table__


def _route(port_of_loading: str | None, port_of_discharge: str | None) -> str | None:
    if not port_of_loading and not port_of_discharge:
        return None
    return f"{port_of_loading or '?'} → {port_of_discharge or '?'}"


def _week(moment: datetime) -> str:
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def hotspots(
    session: Session,
    *,
    since: datetime | None = None,
    group_by: Sequence[str] = DIMENSIONS,
) -> list[dict[str, Any]]:
    """Alert counts per group, most first; `group_by` is any subset of DIMENSIONS, in that order."""
    unknown = [name for name in group_by if name not in DIMENSIONS]
    if unknown:
        raise ValueError(f"cannot group by {', '.join(unknown)}; choose from {', '.join(DIMENSIONS)}")
    dimensions = [name for name in DIMENSIONS if name in group_by]
    bill = func.coalesce(_STATUS.c.bill_of_lading, _ALERTS.c.subject)
    statement = (
        select(
            _ALERTS.c.rule,
            _ALERTS.c.light,
            _ALERTS.c.state,
            _ALERTS.c.context,
            _ALERTS.c.created_at,
            _STATUS.c.terminal,
            func.coalesce(_STATUS.c.carrier, _SHIPMENTS.c.carrier).label("carrier"),
            _SHIPMENTS.c.port_of_loading,
            _SHIPMENTS.c.port_of_discharge,
        )
        .select_from(_ALERTS)
        .outerjoin(_STATUS, _STATUS.c.container_number == _ALERTS.c.subject)
        .outerjoin(_SHIPMENTS, _SHIPMENTS.c.bill_of_lading == bill)
    )
    if since is not None:
        statement = statement.where(_ALERTS.c.created_at >= since)
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in session.execute(statement):
        context = row.context if isinstance(row.context, dict) else {}
        values = {
            "terminal": context.get("terminal") or row.terminal,
            "carrier": context.get("carrier") or row.carrier,
            "route": context.get("route")
            or _route(
                context.get("port_of_loading") or row.port_of_loading,
                context.get("port_of_discharge") or row.port_of_discharge,
            ),
            "week": _week(row.created_at),
        }
        key = tuple(values[name] for name in dimensions)
        group = groups.get(key)
        if group is None:
            group = groups[key] = {
                **{name: values[name] for name in dimensions},
                "alerts": 0,
                "red": 0,
                "amber": 0,
                "green": 0,
                "open": 0,
                "rules": {},
            }
        group["alerts"] += 1
        if row.light in ("red", "amber", "green"):
            group[row.light] += 1
        group["open"] += row.state == "open"
        group["rules"][row.rule] = group["rules"].get(row.rule, 0) + 1
    return sorted(
        groups.values(),
        key=lambda group: (-group["alerts"], *(str(group[name] or "") for name in dimensions)),
    )
