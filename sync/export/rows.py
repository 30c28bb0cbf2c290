"""What the workbook shows, read from the store: streamed rows, never tables of ORM objects.

Containers and events are streamed in the sheets' order with only the columns the sheets show,
as plain tuples: on SQLite straight from the driver's cursor, elsewhere through SQLAlchemy's
server-side cursors (`yield_per`). The database does what it does faster than Python: times come
as Excel serial numbers (UTC), and an event's shown columns as one text. Order links and
shipments' customers are small and indexed in memory.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Float, Row, Select, String, case, cast, func, select, type_coerce
from sqlalchemy.orm import Session

from store.bulk import CHUNK
from store.tables import AlertRow, ContainerStatusRow, EventRow, OrderLinkRow, RunRow, ShipmentRow
from sync.export.xlsx import MAX_DATA_ROWS

YIELD_PER = 5_000

_STATUS = ContainerStatusRow.__table__
_EVENTS = EventRow.__table__
_LINKS = OrderLinkRow.__table__
_SHIPMENTS = ShipmentRow.__table__
_ALERTS = AlertRow.__table__
_RUNS = RunRow.__table__


def _raw(column: Any) -> Any:
    """A JSON column as the driver returns it (text on SQLite, decoded on PostgreSQL): decoding
    only what a sheet shows, and what repeats only once, is cheaper than SQLAlchemy's per value."""
    return type_coerce(column, String).label(column.name)


def status_columns(dialect: str) -> tuple[Any, ...]:
    """Containers, in the order `workbook.ContainerRows.values` unpacks them."""
    return (
        _STATUS.c.container_number,
        _STATUS.c.lifecycle,
        _STATUS.c.available,
        _raw(_STATUS.c.holds),
        _STATUS.c.last_free_day,
        _raw(_STATUS.c.fees),
        utc_serial(_STATUS.c.appointment_at, dialect),
        _STATUS.c.bill_of_lading,
        _STATUS.c.carrier,
        _STATUS.c.vessel_name,
        _STATUS.c.voyage,
        utc_serial(_STATUS.c.vessel_eta, dialect),
        utc_serial(_STATUS.c.vessel_ata, dialect),
        _STATUS.c.terminal,
        _STATUS.c.time_zone,
        _STATUS.c.traffic_light,
        _STATUS.c.light_rule,
        _STATUS.c.light_reason,
        _raw(_STATUS.c.freshness),
        utc_serial(_STATUS.c.last_observed_at, dialect),
    )


EXCEPTION_COLUMNS = (
    _STATUS.c.container_number,
    _STATUS.c.bill_of_lading,
    _STATUS.c.terminal,
    _STATUS.c.time_zone,
    _STATUS.c.traffic_light,
    _STATUS.c.light_rule,
    _STATUS.c.light_reason,
    _STATUS.c.last_free_day,
)
# What an event row shows besides its container and time, as one text: half a million events
# repeat a few thousand combinations of these, so the sheet renders each combination once
# (see workbook.write_events) — and one text per row is far cheaper to fetch than nine values.
EVENT_KEY_SEPARATOR = "\x1f"
EVENT_KEY_PARTS = (
    _EVENTS.c.time_zone,
    _EVENTS.c.event_code,
    _EVENTS.c.classifier,
    # only a hold's or a release's details matter here (their facet); other events' details hold
    # the source's own words, different for nearly every row, which would defeat the reuse
    case((_EVENTS.c.event_code.in_(("HOLD", "RELS")), _EVENTS.c.details)),
    _EVENTS.c.facility,
    _EVENTS.c.location_code,
    _EVENTS.c.vessel_name,
    _EVENTS.c.voyage,
    _EVENTS.c.source,
)


def _joined(parts: Sequence[Any], dialect: str) -> Any:
    """The parts as one text, NULL as empty: SQLite's printf / PostgreSQL's format take '%s' of
    NULL as '' — one function call per row instead of a coalesce per part."""
    template = EVENT_KEY_SEPARATOR.join(["%s"] * len(parts))
    joiner = func.printf if dialect == "sqlite" else func.format
    return type_coerce(joiner(template, *parts), String)


# Excel's serial day number of 1970-01-01, and SQLite's Julian day of Excel's day 0 (1899-12-30).
_UNIX_EPOCH_SERIAL = 25_569.0
_EXCEL_EPOCH_JULIAN = 2_415_018.5


def utc_serial(column: Any, dialect: str) -> Any:
    """The moment as Excel's serial day number in UTC, computed by the database: a float per row
    is cheaper to fetch than a text to parse (the Events sheet reads half a million)."""
    if dialect == "sqlite":
        return (func.julianday(column) - _EXCEL_EPOCH_JULIAN).label(column.name)
    return cast(func.extract("epoch", column) / 86_400.0 + _UNIX_EPOCH_SERIAL, Float).label(column.name)


def event_columns(dialect: str) -> tuple[Any, ...]:
    """Events, in the order `workbook.write_events` unpacks them."""
    return (
        _EVENTS.c.container_number,
        # NULL where the source gave no time (event_at is then only when it was first seen)
        case((_EVENTS.c.timed, utc_serial(_EVENTS.c.event_at, dialect))).label("event_at"),
        _joined(EVENT_KEY_PARTS, dialect).label("shown"),
    )


Pairs = tuple[tuple[str, str | None], ...]


@dataclass
class LinkIndex:
    """Order links and shipments' customers: container → ((order, customer), ...) from the links
    that name the container; B/L → ((order, customer), ...) from links of a whole B/L and its
    shipment.

    Tuples, not lists: the garbage collector stops tracking a tuple of texts the first time it
    looks at it, never a list, and a list per container and per B/L (100,000 for the bench's
    50,000 containers) cost two full collections, as much time as reading the links."""

    by_container: dict[str, Pairs] = field(default_factory=dict)
    by_bill: dict[str, Pairs] = field(default_factory=dict)

    def add(self, container: str, bill: str, order_ref: str, customer: str | None) -> None:
        """One link: of a container (its B/L named or not), or of a whole B/L (no container)."""
        if container:
            self.by_container[container] = (*self.by_container.get(container, ()), (order_ref, customer))
        elif bill:
            self.by_bill[bill] = (*self.by_bill.get(bill, ()), (order_ref, customer))

    def of(self, container: str, bill: str | None) -> tuple[str, str]:
        """(orders, customers) of a container, each joined by ', ' in a stable order."""
        direct = self.by_container.get(container)
        through = self.by_bill.get(bill) if bill else None
        if through is None:
            if direct is None:
                return "", ""
            if len(direct) == 1:  # the common case: one order line for the container
                return direct[0][0], direct[0][1] or ""
            pairs = direct
        elif direct is None:
            pairs = through
        elif len(direct) == 1 and len(through) == 1 and not through[0][0]:
            # also common: one order line, and the B/L's shipment naming the same customer
            (order, customer), (_, shipper) = direct[0], through[0]
            if not shipper or shipper == customer:
                return order, customer or ""
            pairs = direct + through
        else:
            pairs = direct + through
        orders = sorted({order for order, _ in pairs if order})
        customers = sorted({customer for _, customer in pairs if customer})
        return ", ".join(orders), ", ".join(customers)

    def containers_of(self, customer: str) -> set[str]:
        return {number for number, pairs in self.by_container.items() if any(c == customer for _, c in pairs)}

    def bills_of(self, customer: str) -> set[str]:
        return {bill for bill, pairs in self.by_bill.items() if any(c == customer for _, c in pairs)}


def load_links(session: Session) -> LinkIndex:
    index = LinkIndex()
    links = select(_LINKS.c.container_number, _LINKS.c.bill_of_lading, _LINKS.c.order_ref, _LINKS.c.customer)
    for container, bill, order_ref, customer in plain_rows(session, links):
        # a link without a container is an order of the whole B/L: every container of it belongs to it
        index.add(container, bill, order_ref, (customer.strip() or None) if customer else None)
    shipments = select(_SHIPMENTS.c.bill_of_lading, _SHIPMENTS.c.customer).where(
        _SHIPMENTS.c.customer.is_not(None)
    )
    for bill, customer in plain_rows(session, shipments):
        if customer and customer.strip():
            index.add("", bill, "", customer.strip())
    return index


def customer_names(session: Session) -> list[str]:
    """Customers named by order links (what a per-customer export writes one workbook for)."""
    query = select(_LINKS.c.customer).where(_LINKS.c.customer.is_not(None)).distinct()
    return sorted({name.strip() for (name,) in session.execute(query) if name and name.strip()})


def customer_containers(session: Session, links: LinkIndex, customer: str) -> set[str]:
    """The containers linked to `customer`: directly, or through a B/L linked to the customer."""
    numbers = links.containers_of(customer)
    bills = sorted(links.bills_of(customer))
    for start in range(0, len(bills), CHUNK):
        query = select(_STATUS.c.container_number).where(
            _STATUS.c.bill_of_lading.in_(bills[start : start + CHUNK])
        )
        numbers.update(number for (number,) in session.execute(query))
    return numbers


def plain_rows(session: Session, query: Select[Any]) -> Iterator[Sequence[Any]]:
    """The rows of `query` as plain sequences (for unpacking, not by column name), streamed.

    On SQLite the driver's own cursor, handed over to be iterated directly: with raw columns (see
    `_raw`) there is nothing left for SQLAlchemy to convert, its per-row result machinery costs
    as much as SQLite's own reading, and even a generator around the cursor (fetchmany batches,
    `yield from`) costs a fifth of reading half a million events. The driver resets the statement
    when the rows run out; a cursor dropped early goes with its last reference. Elsewhere
    SQLAlchemy streams with a server-side cursor (`yield_per`).
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return _server_side_rows(connection.execute(query.execution_options(yield_per=YIELD_PER)))
    compiled = query.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
    parameters = [compiled.params[name] for name in compiled.positiontup or ()]
    driver = connection.connection.dbapi_connection
    assert driver is not None
    cursor = driver.cursor()
    cursor.execute(str(compiled), parameters)
    rows: Iterator[Sequence[Any]] = iter(cursor)  # a sqlite3 cursor is its own iterator
    return rows


def _server_side_rows(result: Any) -> Iterator[Sequence[Any]]:
    for rows in result.partitions():
        yield from rows


def _in_chunks(
    session: Session, query: Select[Any], key: Any, numbers: Collection[str], order: Sequence[Any]
) -> Iterator[Sequence[Any]]:
    ordered = sorted(numbers)
    for start in range(0, len(ordered), CHUNK):
        yield from plain_rows(session, query.where(key.in_(ordered[start : start + CHUNK])).order_by(*order))


def _count(session: Session, query: Select[Any], key: Any, numbers: Collection[str] | None) -> int:
    if numbers is None:
        return session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    ordered = sorted(numbers)
    total = 0
    for start in range(0, len(ordered), CHUNK):
        chunk = query.where(key.in_(ordered[start : start + CHUNK]))
        total += session.execute(select(func.count()).select_from(chunk.subquery())).scalar_one()
    return total


def count_containers(session: Session, numbers: Collection[str] | None = None) -> int:
    return _count(session, select(_STATUS.c.container_number), _STATUS.c.container_number, numbers)


def _events_query(*columns: Any, dialect: str = "") -> Select[Any]:
    current = _EVENTS.c.superseded_by.is_(None)
    if dialect == "sqlite":
        # SQLite would pick the superseded_by index and sort half a million rows in a temporary
        # b-tree; as an expression the column is no index candidate, and the (container, time)
        # index gives the rows already in the sheet's order (a fifth less work, measured).
        current = (_EVENTS.c.superseded_by + 0).is_(None)
    return select(*columns).where(current, _EVENTS.c.container_number.is_not(None))


def count_events(session: Session, numbers: Collection[str] | None = None) -> int:
    """Current container events, as all container events less the superseded ones: both counts
    come from indexes alone (the (container, time) one, the partial one of superseded versions),
    where counting the current ones directly reads every event's row (no index holds NULLs)."""
    every = select(_EVENTS.c.id).where(_EVENTS.c.container_number.is_not(None))
    superseded = every.where(_EVENTS.c.superseded_by.is_not(None))
    key = _EVENTS.c.container_number
    return _count(session, every, key, numbers) - _count(session, superseded, key, numbers)


def container_rows(session: Session, numbers: Collection[str] | None = None) -> Iterator[Sequence[Any]]:
    """Status rows (`status_columns`) in container order; `numbers`: only these containers."""
    query = select(*status_columns(session.get_bind().dialect.name))
    order = (_STATUS.c.container_number,)
    if numbers is None:
        return plain_rows(session, query.order_by(*order))
    return _in_chunks(session, query, _STATUS.c.container_number, numbers, order)


def event_rows(session: Session, numbers: Collection[str] | None = None) -> Iterator[Sequence[Any]]:
    """Current versions of container events, by container then time; `numbers`: only these."""
    dialect = session.get_bind().dialect.name
    query = _events_query(*event_columns(dialect), dialect=dialect)
    order = (_EVENTS.c.container_number, _EVENTS.c.event_at, _EVENTS.c.id)
    if numbers is None:  # never more than a sheet holds
        return plain_rows(session, query.order_by(*order).limit(MAX_DATA_ROWS))
    return _in_chunks(session, query, _EVENTS.c.container_number, numbers, order)


def exception_containers(session: Session, numbers: Collection[str] | None = None) -> Iterator[Sequence[Any]]:
    """Containers whose light is amber or red (`EXCEPTION_COLUMNS`)."""
    query = select(*EXCEPTION_COLUMNS).where(_STATUS.c.traffic_light.in_(("amber", "red")))
    order = (_STATUS.c.container_number,)
    if numbers is None:
        return plain_rows(session, query.order_by(*order))
    return _in_chunks(session, query, _STATUS.c.container_number, numbers, order)


def open_alerts(session: Session) -> list[Row[Any]]:
    """Open alerts and review items with an amber or red light."""
    query = (
        select(
            _ALERTS.c.kind,
            _ALERTS.c.rule,
            _ALERTS.c.subject,
            _ALERTS.c.light,
            _ALERTS.c.reason,
            _ALERTS.c.created_at,
        )
        .where(_ALERTS.c.state == "open", _ALERTS.c.light.in_(("amber", "red")))
        .order_by(_ALERTS.c.created_at, _ALERTS.c.id)
    )
    return list(session.execute(query))


@dataclass(frozen=True)
class SourceRun:
    source: str
    kind: str
    trigger: str
    started_at: datetime
    ended_at: datetime | None
    outcome: str
    counts: dict[str, Any]
    errors: list[dict[str, Any]]
    last_ok_at: datetime | None


def last_runs(session: Session, *, exclude_run: int | None = None) -> list[SourceRun]:
    """The latest run of each source, with when it last ended ok."""
    latest = select(func.max(_RUNS.c.id).label("id")).group_by(_RUNS.c.source)
    ok = (
        select(_RUNS.c.source, func.max(_RUNS.c.ended_at).label("ended_at"))
        .where(_RUNS.c.outcome == "ok")
        .group_by(_RUNS.c.source)
    )
    if exclude_run is not None:
        latest = latest.where(_RUNS.c.id != exclude_run)
    last_ok = {source: ended_at for source, ended_at in session.execute(ok)}
    rows = session.execute(
        select(_RUNS).where(_RUNS.c.id.in_(latest.scalar_subquery())).order_by(_RUNS.c.source)
    )
    return [
        SourceRun(
            source=row.source,
            kind=row.kind,
            trigger=row.trigger,
            started_at=row.started_at,
            ended_at=row.ended_at,
            outcome=row.outcome,
            counts=row.counts or {},
            errors=row.errors or [],
            last_ok_at=_utc(last_ok.get(row.source)),
        )
        for row in rows
    ]


def _utc(value: Any) -> datetime | None:
    """max() keeps the column's type; should a driver hand back text or a naive value, read it as UTC."""
    if value is None or isinstance(value, datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)
