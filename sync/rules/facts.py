"""What the conditions look at, loaded in bulk for a batch of containers (no per-container queries)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from store.bulk import rows_where_in
from store.tables import ContainerStatusRow, EventRow, OrderLinkRow, ShipmentRow

_STATUS = ContainerStatusRow.__table__
_EVENTS = EventRow.__table__
_LINKS = OrderLinkRow.__table__
_SHIPMENTS = ShipmentRow.__table__

# Status columns the rules read (field_sources is heavy and not needed).
STATUS_COLUMNS = tuple(column for column in _STATUS.c if column.name != "field_sources")
# Current events the milestone and hold conditions read.
MILESTONE_CODES = ("DISC", "AVPU", "CUSR", "PICK", "GTOT", "GTIN", "HOLD", "RELS")
_EVENT_COLUMNS = (
    _EVENTS.c.id,
    _EVENTS.c.natural_key,
    _EVENTS.c.event_code,
    _EVENTS.c.classifier,
    _EVENTS.c.event_at,
    _EVENTS.c.time_zone,
    _EVENTS.c.timed,
    _EVENTS.c.container_number,
    _EVENTS.c.facility,
    _EVENTS.c.vessel_name,
    _EVENTS.c.voyage,
    _EVENTS.c.empty_indicator,
    _EVENTS.c.details,
    _EVENTS.c.source,
    _EVENTS.c.observed_at,
    _EVENTS.c.superseded_by,
)


def zone_of(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@dataclass
class ContainerFacts:
    """One container as the rules see it: its status row, the events that matter, its links."""

    number: str
    status: dict[str, Any]
    events: list[dict[str, Any]] = field(default_factory=list)  # current milestone / hold events
    # every version of the arrival estimates (ARRI EST), the container's own or its vessel call's
    arrival_estimates: list[dict[str, Any]] = field(default_factory=list)
    orders: list[str] = field(default_factory=list)
    customers: list[str] = field(default_factory=list)

    @property
    def time_zone(self) -> str:
        return self.status.get("time_zone") or "UTC"

    @property
    def bill_of_lading(self) -> str | None:
        return self.status.get("bill_of_lading")

    def last_news(self) -> datetime | None:
        """The latest statement of any source about this container itself.

        Vessel-schedule statements ("SOURCE#vessel") say nothing about the container's own state.
        """
        moments = [
            datetime.fromisoformat(latest[0])
            for source, latest in (self.status.get("freshness") or {}).items()
            if "#" not in source and latest
        ]
        return max(moments) if moments else None

    def current(self, code: str, classifier: str | None = None) -> list[dict[str, Any]]:
        return [
            event
            for event in self.events
            if event["event_code"] == code and (classifier is None or event["classifier"] == classifier)
        ]


def _customers_and_orders(session: Session, facts: dict[str, ContainerFacts]) -> None:
    numbers = list(facts)
    by_bill: dict[str, list[ContainerFacts]] = {}
    for item in facts.values():
        if item.bill_of_lading:
            by_bill.setdefault(item.bill_of_lading, []).append(item)
    bills = list(by_bill)
    columns = (_LINKS.c.order_ref, _LINKS.c.bill_of_lading, _LINKS.c.container_number, _LINKS.c.customer)
    rows = list(rows_where_in(session, columns, _LINKS.c.container_number, numbers))
    if bills:
        # links by B/L alone (container '') reach every container of that B/L
        rows += list(
            rows_where_in(session, columns, _LINKS.c.bill_of_lading, bills, _LINKS.c.container_number == "")
        )
    for row in rows:
        targets = (
            [facts[row["container_number"]]]
            if row["container_number"] in facts
            else by_bill.get(row["bill_of_lading"], [])
        )
        for item in targets:
            if row["order_ref"] and row["order_ref"] not in item.orders:
                item.orders.append(row["order_ref"])
            if row["customer"] and row["customer"] not in item.customers:
                item.customers.append(row["customer"])
    if bills:
        for row in rows_where_in(
            session,
            (_SHIPMENTS.c.bill_of_lading, _SHIPMENTS.c.customer),
            _SHIPMENTS.c.bill_of_lading,
            bills,
        ):
            for item in by_bill.get(row["bill_of_lading"], []):
                if row["customer"] and row["customer"] not in item.customers:
                    item.customers.append(row["customer"])
    for item in facts.values():
        item.orders.sort()
        item.customers.sort()


def _arrival_estimates(session: Session, facts: dict[str, ContainerFacts]) -> None:
    for row in rows_where_in(
        session,
        _EVENT_COLUMNS,
        _EVENTS.c.container_number,
        list(facts),
        _EVENTS.c.event_code == "ARRI",
        _EVENTS.c.classifier == "EST",
    ):
        facts[row["container_number"]].arrival_estimates.append(dict(row))
    # Without estimates of their own: the B/L's (an arrival notice per B/L) ...
    by_bill: dict[str, list[ContainerFacts]] = {}
    for item in facts.values():
        if not item.arrival_estimates and item.bill_of_lading:
            by_bill.setdefault(item.bill_of_lading, []).append(item)
    for row in rows_where_in(
        session,
        (*_EVENT_COLUMNS, _EVENTS.c.bill_of_lading),
        _EVENTS.c.bill_of_lading,
        list(by_bill),
        _EVENTS.c.container_number.is_(None),
        _EVENTS.c.event_code == "ARRI",
        _EVENTS.c.classifier == "EST",
    ):
        for item in by_bill[row["bill_of_lading"]]:
            item.arrival_estimates.append(dict(row))
    # ... else the vessel call's (a vessel schedule's ETAs).
    by_call: dict[tuple[str, str], list[ContainerFacts]] = {}
    for item in facts.values():
        if not item.arrival_estimates and item.status.get("vessel_name"):
            key = (str(item.status["vessel_name"]).upper(), str(item.status.get("voyage") or "").upper())
            by_call.setdefault(key, []).append(item)
    if not by_call:
        return
    names = sorted({key[0] for key in by_call})
    for start in range(0, len(names), 500):
        chunk = names[start : start + 500]
        rows = session.execute(
            select(*_EVENT_COLUMNS).where(
                _EVENTS.c.container_number.is_(None),
                _EVENTS.c.bill_of_lading.is_(None),
                _EVENTS.c.event_code == "ARRI",
                _EVENTS.c.classifier == "EST",
                func.upper(_EVENTS.c.vessel_name).in_(chunk),
            )
        ).mappings()
        for row in rows:
            key = (str(row["vessel_name"]).upper(), str(row["voyage"] or "").upper())
            for item in by_call.get(key, []):
                item.arrival_estimates.append(dict(row))


def load_facts(session: Session, statuses: Iterable[dict[str, Any]]) -> dict[str, ContainerFacts]:
    """Facts for containers whose status rows (STATUS_COLUMNS) are given."""
    facts = {row["container_number"]: ContainerFacts(row["container_number"], dict(row)) for row in statuses}
    if not facts:
        return facts
    for row in rows_where_in(
        session,
        _EVENT_COLUMNS,
        _EVENTS.c.container_number,
        list(facts),
        _EVENTS.c.event_code.in_(MILESTONE_CODES),
        _EVENTS.c.superseded_by.is_(None),
    ):
        facts[row["container_number"]].events.append(dict(row))
    _arrival_estimates(session, facts)
    _customers_and_orders(session, facts)
    return facts


def load_statuses(session: Session, numbers: Sequence[str]) -> list[dict[str, Any]]:
    return [dict(row) for row in rows_where_in(session, STATUS_COLUMNS, _STATUS.c.container_number, numbers)]


def tracked_numbers(session: Session) -> list[str]:
    """Containers still followed (not at their final state), for the clock's evaluation."""
    return list(
        session.execute(
            select(_STATUS.c.container_number)
            .where(or_(_STATUS.c.tracking != "final", _STATUS.c.tracking.is_(None)))
            .order_by(_STATUS.c.container_number)
        ).scalars()
    )
