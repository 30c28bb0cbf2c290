"""Read-only queries over the store: plain functions of a Session returning JSON-able dicts.

The HTTP routes, the CLI (`run.py status`, `events`), "ask" and the board all use these, so every
surface tells the same story. Nothing here writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, or_, select
from sqlalchemy.orm import Session

from api.numbers import check_container_number, normalize_bill_of_lading
from api.paging import fetch_page, fingerprint
from api.prepared import Prepared
from api.zones import days_left, local_iso
from store.tables import (
    ContainerStatusRow,
    EventRow,
    ObservationRow,
    OrderLinkRow,
    ShipmentRow,
)

_STATUS = ContainerStatusRow.__table__
_LINKS = OrderLinkRow.__table__
_EVENTS = EventRow.__table__
_OBSERVATIONS = ObservationRow.__table__

HOLD_STATES = ("hold", "inspection")


# What status_document reads: every column but the merge's bookkeeping (field_sources, a
# document per field and source, is the largest JSON of the row; decoding it for every answer
# would be wasted).
_DOCUMENT_COLUMNS = [column for column in _STATUS.columns if column.name not in ("field_sources",)]
_LINK_COLUMNS = (_LINKS.c.container_number, _LINKS.c.order_ref, _LINKS.c.bill_of_lading, _LINKS.c.customer)

# Hot statements, built once (building a SELECT costs more than running it on SQLite); the
# one-container ones are also compiled once and run at the driver level (api.prepared).
_LINKS_OF = (
    select(*_LINK_COLUMNS)
    .where(_LINKS.c.container_number.in_(bindparam("numbers", expanding=True)))
    .order_by(_LINKS.c.id)
)
_LINKS_OF_ONE = Prepared(
    select(*_LINK_COLUMNS).where(_LINKS.c.container_number == bindparam("number")).order_by(_LINKS.c.id)
)
_STATUS_OF = Prepared(select(*_DOCUMENT_COLUMNS).where(_STATUS.c.container_number == bindparam("number")))
_STATUSES_OF = select(*_DOCUMENT_COLUMNS).where(
    _STATUS.c.container_number.in_(bindparam("numbers", expanding=True))
)


def _links_for(session: Session, numbers: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """container → its order links (order_ref, bill_of_lading, customer)."""
    found: dict[str, list[dict[str, Any]]] = {}
    wanted = sorted(set(numbers))
    for start in range(0, len(wanted), 500):
        for row in (
            session.connection().execute(_LINKS_OF, {"numbers": wanted[start : start + 500]}).mappings()
        ):
            found.setdefault(row["container_number"], []).append(dict(row))
    return found


def status_document(
    row: Any, links: list[dict[str, Any]] | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """The current status of one container as the API states it."""
    now = now or datetime.now(UTC)
    zone_name = row.time_zone
    number = row.container_number
    links = links or []
    orders = sorted({link["order_ref"] for link in links if link["order_ref"]})
    bills = [row.bill_of_lading] if row.bill_of_lading else []
    bills += sorted({link["bill_of_lading"] for link in links if link["bill_of_lading"]} - set(bills))
    customers = sorted({link["customer"] for link in links if link["customer"]})
    freshness = sorted(
        ({"source": source, "last_checked_at": entry[0]} for source, entry in (row.freshness or {}).items()),
        key=lambda item: item["last_checked_at"],
        reverse=True,
    )
    holds = dict(row.holds or {})
    return {
        "container_number": number,
        "lifecycle": row.lifecycle,
        "lifecycle_at": row.lifecycle_at,
        "tracking": row.tracking,
        "available": row.available,
        "holds": holds,
        "on_hold": sorted(facet for facet, state in holds.items() if state in HOLD_STATES),
        "last_free_day": row.last_free_day,
        "days_left": days_left(row.last_free_day, now, zone_name),
        "line_last_free_day": row.line_last_free_day,
        "fees": dict(row.fees or {}),
        "yard_location": row.yard_location,
        "appointment_at": row.appointment_at,
        "vessel": {
            "name": row.vessel_name,
            "voyage": row.voyage,
            "eta": row.vessel_eta,
            "ata": row.vessel_ata,
        },
        "terminal": row.terminal,
        "time_zone": zone_name,
        "carrier": row.carrier,
        "size_type": row.size_type,
        "traffic_light": {"light": row.traffic_light, "rule": row.light_rule, "reason": row.light_reason},
        "freshness": freshness,
        "last_source": freshness[0]["source"] if freshness else None,
        "disagreements": dict(row.disagreements or {}),
        "not_found": dict(row.not_found or {}),
        "bill_of_lading": row.bill_of_lading,
        "bills_of_lading": bills,
        "orders": orders,
        "customers": customers,
        "local": {
            "lifecycle_at": local_iso(row.lifecycle_at, zone_name),
            "appointment_at": local_iso(row.appointment_at, zone_name),
            "vessel_eta": local_iso(row.vessel_eta, zone_name),
            "vessel_ata": local_iso(row.vessel_ata, zone_name),
        },
        "first_seen_at": row.first_seen_at,
        "last_observed_at": row.last_observed_at,
        "updated_at": row.updated_at,
        "links": {
            "self": f"/containers/{number}",
            "events": f"/containers/{number}/events",
            "shipments": [f"/shipments/{bill}" for bill in bills],
            "orders": [f"/orders/{order}" for order in orders],
        },
    }


def container_status(
    db: Session | Connection, number: str, now: datetime | None = None
) -> dict[str, Any] | None:
    """The container's current status, or None when it is not tracked."""
    row = _STATUS_OF.first(db, {"number": number})
    if row is None:
        return None
    links = [link._asdict() for link in _LINKS_OF_ONE.all(db, {"number": number})]
    return status_document(row, links, now)


def container_statuses(
    session: Session, numbers: Iterable[str], now: datetime | None = None
) -> dict[str, dict[str, Any]]:
    wanted = sorted(set(numbers))
    links = _links_for(session, wanted)
    found = {}
    for start in range(0, len(wanted), 500):
        for row in session.connection().execute(_STATUSES_OF, {"numbers": wanted[start : start + 500]}):
            found[row.container_number] = status_document(row, links.get(row.container_number), now)
    return found


def _container_filters(
    *,
    lifecycle: str | None,
    terminal: str | None,
    light: str | None,
    updated_since: datetime | None,
    order: str | None,
    bill_of_lading: str | None,
    tracking: str | None,
    search: str | None,
) -> list[Any]:
    criteria: list[Any] = []
    if lifecycle:
        criteria.append(_STATUS.c.lifecycle == lifecycle.upper())
    if terminal:
        criteria.append(_STATUS.c.terminal == terminal)
    if light:
        criteria.append(_STATUS.c.traffic_light == light.lower())
    if updated_since:
        criteria.append(_STATUS.c.updated_at >= updated_since)
    if tracking:
        criteria.append(_STATUS.c.tracking == tracking)
    if order:
        criteria.append(
            _STATUS.c.container_number.in_(
                select(_LINKS.c.container_number).where(_LINKS.c.order_ref == order)
            )
        )
    if bill_of_lading:
        criteria.append(
            or_(
                _STATUS.c.bill_of_lading == bill_of_lading,
                _STATUS.c.container_number.in_(
                    select(_LINKS.c.container_number).where(_LINKS.c.bill_of_lading == bill_of_lading)
                ),
            )
        )
    if search:
        text = search.strip().upper()
        criteria.append(
            or_(_STATUS.c.container_number.startswith(text), _STATUS.c.bill_of_lading.startswith(text))
        )
    return criteria


def list_containers(
    session: Session,
    *,
    lifecycle: str | None = None,
    terminal: str | None = None,
    light: str | None = None,
    updated_since: datetime | None = None,
    order: str | None = None,
    bill_of_lading: str | None = None,
    tracking: str | None = None,
    search: str | None = None,
    limit: int = 100,
    cursor: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Containers matching the filters, by container number, a page at a time."""
    filters = {
        "lifecycle": lifecycle,
        "terminal": terminal,
        "light": light,
        "updated_since": updated_since,
        "order": order,
        "bill_of_lading": bill_of_lading,
        "tracking": tracking,
        "search": search,
    }
    statement = select(*_DOCUMENT_COLUMNS).where(*_container_filters(**filters))
    page = fetch_page(
        session,
        statement,
        [_STATUS.c.container_number],
        lambda row: (row.container_number,),
        limit=limit,
        cursor=cursor,
        query=fingerprint(filters),
        core=True,
    )
    links = _links_for(session, [row.container_number for row in page.rows])
    return {
        "items": [status_document(row, links.get(row.container_number), now) for row in page.rows],
        "next_cursor": page.next_cursor,
        "prev_cursor": page.prev_cursor,
    }


def _summaries(session: Session, numbers: Iterable[str], now: datetime | None) -> list[dict[str, Any]]:
    statuses = container_statuses(session, numbers, now)
    return [statuses[number] for number in sorted(statuses)]


def shipment(session: Session, bill_of_lading: str, now: datetime | None = None) -> dict[str, Any] | None:
    """A bill of lading: what the store knows of it, its containers and orders; None if unknown."""
    row = session.get(ShipmentRow, bill_of_lading)
    links = session.execute(select(_LINKS).where(_LINKS.c.bill_of_lading == bill_of_lading)).mappings().all()
    numbers = {link["container_number"] for link in links if link["container_number"]}
    numbers.update(
        session.execute(
            select(_STATUS.c.container_number).where(_STATUS.c.bill_of_lading == bill_of_lading)
        ).scalars()
    )
    if row is None and not numbers and not links:
        return None
    containers = _summaries(session, numbers, now)
    holds: dict[str, str] = {}
    for container in containers:
        for facet, state in container["holds"].items():
            # a facet is released for the B/L only when it is released for every container
            if holds.get(facet) not in HOLD_STATES:
                holds[facet] = state
    return {
        "bill_of_lading": bill_of_lading,
        "carrier": row.carrier if row else None,
        "customer": row.customer if row else None,
        "vessel": {"name": row.vessel_name, "voyage": row.voyage} if row else None,
        "port_of_loading": row.port_of_loading if row else None,
        "port_of_discharge": row.port_of_discharge if row else None,
        "updated_at": row.updated_at if row else None,
        "holds": holds,
        "on_hold": sorted(facet for facet, state in holds.items() if state in HOLD_STATES),
        "orders": sorted({link["order_ref"] for link in links if link["order_ref"]}),
        "containers": containers,
        "links": {
            "self": f"/shipments/{bill_of_lading}",
            "containers": [f"/containers/{number}" for number in sorted(numbers)],
        },
    }


def order(session: Session, reference: str, now: datetime | None = None) -> dict[str, Any] | None:
    """An order reference: its B/Ls and containers; None if no link names it."""
    links = session.execute(select(_LINKS).where(_LINKS.c.order_ref == reference)).mappings().all()
    if not links:
        return None
    bills = sorted({link["bill_of_lading"] for link in links if link["bill_of_lading"]})
    numbers = {link["container_number"] for link in links if link["container_number"]}
    if bills:  # an order linked to a B/L covers the B/L's containers
        numbers.update(
            session.execute(
                select(_STATUS.c.container_number).where(_STATUS.c.bill_of_lading.in_(bills))
            ).scalars()
        )
    return {
        "order_ref": reference,
        "customers": sorted({link["customer"] for link in links if link["customer"]}),
        "bills_of_lading": bills,
        "containers": _summaries(session, numbers, now),
        "links": {
            "self": f"/orders/{reference}",
            "shipments": [f"/shipments/{bill}" for bill in bills],
            "containers": [f"/containers/{number}" for number in sorted(numbers)],
        },
    }


def _event_document(row: Any, ids: dict[int, str], observation: Any | None) -> dict[str, Any]:
    return {
        "event_id": row.event_id,
        "event_type": row.event_type,
        "event_code": row.event_code,
        "classifier": row.classifier,
        "event_at": row.event_at,
        "event_at_local": local_iso(row.event_at, row.time_zone),
        "timed": row.timed,
        "time_zone": row.time_zone,
        "subject": "container" if row.container_number else "bill_of_lading",
        "container_number": row.container_number,
        "bill_of_lading": row.bill_of_lading,
        "location_code": row.location_code,
        "facility": row.facility,
        "vessel_name": row.vessel_name,
        "voyage": row.voyage,
        "empty_indicator": row.empty_indicator,
        "details": dict(row.details or {}),
        "source": row.source,
        "current": row.superseded_by is None,
        "superseded_by": ids.get(row.superseded_by) if row.superseded_by is not None else None,
        "observed_at": row.observed_at,
        "created_at": row.created_at,
        "observation": None
        if observation is None
        else {
            "id": observation.id,
            "source": observation.source,
            "source_ref": observation.source_ref,
            "observed_at": observation.observed_at,
            "last_observed_at": observation.last_observed_at,
            "parser": observation.parser,
            "time_zone": observation.time_zone,
            "fields": dict(observation.fields or {}),
        },
    }


def container_events(session: Session, number: str) -> list[dict[str, Any]] | None:
    """Every version of the container's events (and its B/L's), oldest first, with provenance.

    None when the container is not tracked.
    """
    bill = session.execute(
        select(_STATUS.c.bill_of_lading).where(_STATUS.c.container_number == number)
    ).first()
    if bill is None:
        return None
    rows = list(session.execute(select(_EVENTS).where(_EVENTS.c.container_number == number)))
    if bill[0]:
        rows += session.execute(select(_EVENTS).where(_EVENTS.c.bill_of_lading == bill[0])).all()
    rows.sort(key=lambda row: (row.event_at, row.id))
    ids = {row.id: row.event_id for row in rows}
    missing = {row.superseded_by for row in rows if row.superseded_by is not None} - set(ids)
    if missing:
        ids.update(
            session.execute(select(_EVENTS.c.id, _EVENTS.c.event_id).where(_EVENTS.c.id.in_(missing))).all()
        )
    observation_ids = sorted({row.observation_id for row in rows if row.observation_id is not None})
    observations = {}
    for start in range(0, len(observation_ids), 500):
        chunk = observation_ids[start : start + 500]
        for observation in session.execute(select(_OBSERVATIONS).where(_OBSERVATIONS.c.id.in_(chunk))):
            observations[observation.id] = observation
    return [_event_document(row, ids, observations.get(row.observation_id)) for row in rows]


def identify(session: Session, text: str) -> tuple[str, str] | None:
    """What a typed identifier names in the store: ("container"|"bill_of_lading"|"order", key)."""
    check = check_container_number(text)
    if check.valid and session.get(ContainerStatusRow, check.number) is not None:
        return "container", str(check.number)
    bill = normalize_bill_of_lading(text)
    if bill and shipment_exists(session, bill):
        return "bill_of_lading", bill
    reference = text.strip()
    if session.execute(select(_LINKS.c.id).where(_LINKS.c.order_ref == reference).limit(1)).first():
        return "order", reference
    return None


def shipment_exists(session: Session, bill: str) -> bool:
    if session.get(ShipmentRow, bill) is not None:
        return True
    for statement in (
        select(_STATUS.c.container_number).where(_STATUS.c.bill_of_lading == bill).limit(1),
        select(_LINKS.c.id).where(_LINKS.c.bill_of_lading == bill).limit(1),
    ):
        if session.execute(statement).first():
            return True
    return False
