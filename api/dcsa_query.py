"""DCSA filters (quaysync.dcsa.EventFilters) as SQL over the `event` table, and the /v2 event pages.

Keep in step with `quaysync.dcsa.matches` (the webhook fan-out's twin); tests compare the two.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Select, and_, bindparam, false, func, literal_column, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from api.paging import Page, fetch_page, fingerprint
from quaysync.dcsa import SERVED, EventFilters, to_dcsa, transport_call_id
from store.tables import ContainerStatusRow, EventRow
from store.types import UTCDateTime

_EVENTS = EventRow.__table__
_STATUS = ContainerStatusRow.__table__
CREATED_OPERATORS = ("eq", "gte", "gt", "lte", "lt")


def _current() -> ColumnElement[bool]:
    """Current versions only. Written so that no engine walks the superseded_by index for it:
    nearly every row is current, and SQLite would otherwise pick that index over the selective
    ones (the container's, or created_at for the paging order)."""
    return func.coalesce(_EVENTS.c.superseded_by, 0) == 0


def _in(column: Any, codes: Iterable[str]) -> ColumnElement[bool]:
    """`column IN (codes)` with the codes written into the SQL: they are DCSA codes from our own
    enumerations (validated), and constant lists save binding them on every execution."""
    return column.in_([literal_column(f"'{code}'") for code in sorted(codes) if code.isalnum()])


def _is(column: Any, value: Any) -> ColumnElement[bool]:
    return column.is_(None) if value is None else column == value


def _has_transport_call() -> ColumnElement[bool]:
    return or_(
        _EVENTS.c.event_type == "TRANSPORT",
        and_(_EVENTS.c.vessel_name.is_not(None), _EVENTS.c.event_code.in_(("LOAD", "DISC"))),
    )


def _transport_call_criteria(session: Session | Connection, wanted: str) -> ColumnElement[bool]:
    """Events whose derived transportCallID is `wanted` (IDs are hashes: find the calls first)."""
    calls = session.execute(
        select(_EVENTS.c.vessel_name, _EVENTS.c.voyage, _EVENTS.c.location_code, _EVENTS.c.facility)
        .where(_has_transport_call())
        .distinct()
    ).all()
    hits = [
        and_(
            _is(_EVENTS.c.vessel_name, vessel),
            _is(_EVENTS.c.voyage, voyage),
            _is(_EVENTS.c.location_code, code),
            _is(_EVENTS.c.facility, facility),
        )
        for vessel, voyage, code, facility in calls
        if transport_call_id(vessel, voyage, code or facility) == wanted
    ]
    return and_(_has_transport_call(), or_(*hits)) if hits else false()


def event_criteria(
    session: Session | Connection, filters: EventFilters
) -> tuple[list[ColumnElement[bool]], dict[str, Any]]:
    """WHERE clauses for current, served events passing the filters, and their bound values.

    Values are bind parameters, so one filter shape gives one statement (see `events_page`).
    """
    if filters.unmatchable:
        return [false()], {}
    types = filters.required_type() or frozenset()
    served = [
        and_(_EVENTS.c.event_type == event_type, _in(_EVENTS.c.event_code, codes))
        for event_type, codes in SERVED.items()
        if event_type in types
    ]
    if not served:
        return [false()], {}
    criteria: list[ColumnElement[bool]] = [_current(), or_(*served)]
    values: dict[str, Any] = {}
    for codes, event_type in (
        (filters.shipment_codes, "SHIPMENT"),
        (filters.transport_codes, "TRANSPORT"),
        (filters.equipment_codes, "EQUIPMENT"),
    ):
        if codes is not None:
            criteria.append(or_(_EVENTS.c.event_type != event_type, _in(_EVENTS.c.event_code, codes)))
    if filters.document_types is not None:
        facet = _EVENTS.c.details["facet"].as_string()
        options = []
        if "CUS" in filters.document_types:
            options.append(facet == "customs")
        if "SRM" in filters.document_types:
            options.append(or_(facet.is_(None), facet != "customs"))
        criteria.append(and_(_EVENTS.c.event_type == "SHIPMENT", or_(*options)) if options else false())
    if filters.equipment_reference:
        criteria.append(_EVENTS.c.container_number == bindparam("equipment_reference"))
        values["equipment_reference"] = filters.equipment_reference
    if filters.transport_document_reference:
        criteria.append(
            or_(
                _EVENTS.c.bill_of_lading == bindparam("bill"),
                _EVENTS.c.container_number.in_(
                    select(_STATUS.c.container_number).where(_STATUS.c.bill_of_lading == bindparam("bill"))
                ),
            )
        )
        values["bill"] = filters.transport_document_reference
    if filters.un_location_code:
        criteria.append(_EVENTS.c.location_code == bindparam("location"))
        values["location"] = filters.un_location_code
    if filters.voyage:
        criteria.append(_EVENTS.c.voyage == bindparam("voyage"))
        values["voyage"] = filters.voyage
    if filters.transport_call_id:
        criteria.append(_transport_call_criteria(session, filters.transport_call_id))
    return criteria, values


def bound_values(filters: EventFilters) -> dict[str, Any]:
    """The bind parameter values `event_criteria` expects for these filters."""
    names = {
        "equipment_reference": filters.equipment_reference,
        "bill": filters.transport_document_reference,
        "location": filters.un_location_code,
        "voyage": filters.voyage,
    }
    return {name: value for name, value in names.items() if value}


def created_values(bounds: dict[str, datetime]) -> tuple[dict[str, Any], tuple[tuple[str, bool], ...]]:
    """Bound values and shape of eventCreatedDateTime bounds (see `created_criteria`)."""
    values: dict[str, Any] = {}
    shape = []
    for operator, moment in sorted(bounds.items()):
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        shape.append((operator, moment.microsecond == 0))
        values[f"created_{operator}"] = moment
        values[f"created_{operator}_end"] = moment + timedelta(seconds=1)
    return values, tuple(shape)


def created_criteria(bounds: dict[str, datetime]) -> list[ColumnElement[bool]]:
    """eventCreatedDateTime[:op] bounds as clauses over bind parameters (values: `created_values`).

    Whole-second values compare by the second, as eventCreatedDateTime is served.
    """
    criteria = []
    column = _EVENTS.c.created_at
    for operator, whole in created_values(bounds)[1]:
        low = bindparam(f"created_{operator}", type_=UTCDateTime())
        high = bindparam(f"created_{operator}_end", type_=UTCDateTime())
        if operator == "eq":
            criteria.append(and_(column >= low, column < high) if whole else column == low)
        elif operator == "gte":
            criteria.append(column >= low)
        elif operator == "gt":
            criteria.append(column >= high if whole else column > low)
        elif operator == "lte":
            criteria.append(column < high if whole else column <= low)
        elif operator == "lt":
            criteria.append(column < low)
    return criteria


def bills_of(session: Session, rows: Iterable[Any]) -> dict[str, str]:
    """container → B/L, for the container events among `rows`."""
    numbers = sorted({row.container_number for row in rows if row.container_number})
    found: dict[str, str] = {}
    for start in range(0, len(numbers), 500):
        found.update(
            session.execute(
                select(_STATUS.c.container_number, _STATUS.c.bill_of_lading).where(
                    _STATUS.c.container_number.in_(numbers[start : start + 500]),
                    _STATUS.c.bill_of_lading.is_not(None),
                )
            ).all()
        )
    return found


def render(session: Session, rows: list[Any]) -> list[dict[str, Any]]:
    bills = bills_of(session, rows)
    return [to_dcsa(row, bills.get(row.container_number or "")) for row in rows]


# The selected rows carry their container's B/L (for documentID and references), in one query.
# What a DCSA event is made of (see quaysync.dcsa.to_dcsa), plus the paging keys; nothing else
# (every value read is a Python object made per row).
_DCSA_COLUMNS = [
    _EVENTS.c[name]
    for name in (
        "id", "event_id", "event_type", "event_code", "classifier", "event_at", "time_zone",
        "container_number", "bill_of_lading", "location_code", "facility", "vessel_name", "voyage",
        "empty_indicator", "details", "created_at",
    )
]  # fmt: skip
_WITH_BILL = select(*_DCSA_COLUMNS, _STATUS.c.bill_of_lading.label("container_bill")).select_from(
    _EVENTS.outerjoin(_STATUS, _STATUS.c.container_number == _EVENTS.c.container_number)
)
_KEYS = (_EVENTS.c.created_at, _EVENTS.c.id)


# Statements by filter shape: building and hashing a SELECT costs more than running it on SQLite.
_BY_SHAPE: dict[Hashable, Select[Any]] = {}


def _shape(filters: EventFilters, created_shape: tuple) -> Hashable | None:
    if filters.transport_call_id:  # its clauses name the calls found: not a reusable shape
        return None
    parts = []
    for name, value in filters.__dict__.items():
        if isinstance(value, frozenset | list):
            parts.append((name, tuple(sorted(value))))
        else:
            parts.append((name, bool(value)))
    return ("dcsa-events", tuple(parts), created_shape)


def events_page(
    session: Session | Connection,
    filters: EventFilters,
    *,
    created: dict[str, datetime] | None = None,
    descending: bool = False,
    limit: int = 100,
    cursor: str | None = None,
) -> tuple[list[dict[str, Any]], Page]:
    """One page of DCSA events in creation order, and the page's cursors."""
    created = created or {}
    moments, created_shape = created_values(created)
    shape = _shape(filters, created_shape)
    statement = _BY_SHAPE.get(shape) if shape is not None else None
    if statement is None:
        criteria, _ = event_criteria(session, filters)
        statement = _WITH_BILL.where(*criteria, *created_criteria(created))
        if shape is not None and len(_BY_SHAPE) < 512:
            _BY_SHAPE[shape] = statement

    def query() -> str:
        return fingerprint({**filters.as_query(), "created": created, "descending": descending})

    page = fetch_page(
        session,
        statement,
        _KEYS,
        lambda row: (row.created_at, row.id),
        limit=limit,
        cursor=cursor,
        query=query,
        descending=descending,
        params={**bound_values(filters), **moments},
        memo=shape,
        core=True,
    )
    return [to_dcsa(row, row.container_bill) for row in page.rows], page


def event_by_id(session: Session, event_id: str) -> dict[str, Any] | None:
    """A current, served event by its eventID."""
    row = session.execute(select(_EVENTS).where(_EVENTS.c.event_id == event_id, _current())).first()
    if row is None or row.event_code not in SERVED.get(row.event_type, ()):
        return None
    return render(session, [row])[0]
