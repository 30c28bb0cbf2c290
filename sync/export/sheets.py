"""The sheets' columns and how a store row becomes a sheet row.

Containers (one row per container), Events (current versions, container by container), Exceptions
(everything amber or red, with the rule that fired), Sources (the last run of each source) and
Hotspots (alerts by terminal, carrier, route and week, from api.hotspots where it exists).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from datetime import date
from typing import Any

import orjson
from sqlalchemy.orm import Session

from sync.export import rows as queries
from sync.export.cells import BLANK_CELL, Column, serial_text
from sync.export.clock import Clock
from sync.export.xlsx import SheetWriter

LIFECYCLE_WORDS = {
    "UNKNOWN": "Unknown",
    "IN_TRANSIT": "In transit",
    "ARRIVED": "Arrived",
    "DISCHARGED": "Discharged",
    "GATED_OUT": "Gated out",
    "EMPTY_RETURNED": "Empty returned",
}
EVENT_WORDS = {
    "LOAD": "Loaded",
    "DISC": "Discharged",
    "GTIN": "Gate in",
    "GTOT": "Gate out",
    "PICK": "Pick-up",
    "DROP": "Dropped off",
    "STUF": "Stuffed",
    "STRP": "Stripped",
    "INSP": "Inspected",
    "RMVD": "Removed",
    "ARRI": "Vessel arrival",
    "DEPA": "Vessel departure",
    "HOLD": "Hold",
    "RELS": "Released",
    "AVPU": "Available for pick-up",
    "CUSR": "Customs released",
    "CUSI": "Customs inspection",
}
HOLD_ORDER = ("customs", "freight", "line", "usda", "tmf", "other")
_REST_CACHE_LIMIT = 200_000  # rendered event cells kept for reuse (a few thousand are typical)
OUTCOME_LIGHTS = {
    "ok": "green",
    "partial": "amber",
    "running": "amber",
    "failed": "red",
    "blocked": "red",
    "layout_changed": "red",
    "interrupted": "red",
}
FINISHED = frozenset({"GATED_OUT", "EMPTY_RETURNED"})


def holds_text(holds: dict[str, Any] | None) -> str:
    """'customs, freight' for what holds now, 'none' when every known facet is released."""
    if not holds:
        return ""
    active = [
        f"{facet} inspection" if holds[facet] == "inspection" else facet
        for facet in (*HOLD_ORDER, *sorted(set(holds) - set(HOLD_ORDER)))
        if holds.get(facet) in ("hold", "inspection")
    ]
    return ", ".join(active) if active else "none"


def _amount(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _latest_source(freshness: dict[str, Any] | None) -> str:
    if not freshness:
        return ""
    return max(freshness.items(), key=lambda item: str(item[1][0]) if item[1] else "")[0]


def _json(value: Any) -> Any:
    """A JSON column as the driver gave it: text (SQLite) or already decoded (PostgreSQL)."""
    return orjson.loads(value) if value.__class__ is str else value


def _vessel(name: str | None, voyage: str | None) -> str:
    if name and voyage:
        return f"{name} / {voyage}"
    return name or (f"/ {voyage}" if voyage else "")


# --- Containers ------------------------------------------------------------------------------


def container_columns(clock: Clock) -> list[Column]:
    zone = clock.label
    columns = [
        Column("Container", 14),
        Column("Customer", 18),
        Column("Order", 18),
        Column("B/L", 18),
        Column("Line", 12),
        Column("Vessel / voyage", 24),
        Column(f"ETA ({zone})", 17, "datetime"),
        Column(f"ATA ({zone})", 17, "datetime"),
        Column("Terminal", 16),
        Column("Status", 14),
        Column("Available", 10),
        Column("Holds", 18),
        Column("Last free day", 13, "date"),
        Column("Days left", 9, "int"),
        Column("Demurrage", 11, "money"),
        Column("Fees", 11, "money"),
        Column(f"Appointment ({zone})", 18, "datetime"),
        Column("Light", 8, "light"),
        Column("Rule", 16),
        Column("Why", 32),
        Column(f"Last update ({zone})", 18, "datetime"),
        Column("Source", 20),
    ]
    if clock.fixed is None:
        columns.append(Column("Zone", 20))
    return columns


class ContainerRows:
    """`queries.container_rows` → Containers sheet values, with caches for what repeats (holds,
    fees: the same few JSON documents across thousands of containers)."""

    def __init__(self, links: queries.LinkIndex, clock: Clock) -> None:
        self.links = links
        self.clock = clock
        self._holds: dict[str, str] = {}
        self._fees: dict[str, tuple[float | None, float | None]] = {}

    def _holds_text(self, raw: Any) -> str:
        if raw.__class__ is not str:  # decoded already (PostgreSQL), or NULL
            return holds_text(raw)
        text = self._holds.get(raw)
        if text is None:
            text = self._holds[raw] = holds_text(orjson.loads(raw))
        return text

    def _fees_of(self, raw: Any) -> tuple[float | None, float | None]:
        if raw.__class__ is not str:
            fees = raw or {}
            return _amount(fees.get("demurrage")), _amount(fees.get("fees"))
        amounts = self._fees.get(raw)
        if amounts is None:
            fees = orjson.loads(raw) or {}
            amounts = self._fees[raw] = (_amount(fees.get("demurrage")), _amount(fees.get("fees")))
        return amounts

    def values(self, row: Sequence[Any]) -> list[Any]:
        """One Containers row from a `queries.status_columns` row."""
        (
            number,
            lifecycle,
            available,
            holds,
            last_free_day,
            fees,
            appointment_at,
            bill,
            carrier,
            vessel_name,
            voyage,
            eta,
            ata,
            terminal,
            row_zone,
            light,
            rule,
            reason,
            freshness,
            last_observed_at,
        ) = row
        clock = self.clock
        zone = clock.fixed or row_zone or "UTC"
        orders, customers = self.links.of(number, bill)
        lifecycle = lifecycle or "UNKNOWN"
        if last_free_day.__class__ is str:  # SQLite's driver hands dates over as text
            last_free_day = date.fromisoformat(last_free_day)
        days_left = None
        if last_free_day is not None and lifecycle not in FINISHED:
            days_left = (last_free_day - clock.today(zone)).days
        demurrage, total_fees = self._fees_of(fees)
        local = clock.from_utc_serial
        values = [
            number,
            customers,
            orders,
            bill,
            carrier,
            _vessel(vessel_name, voyage),
            None if eta is None else local(eta, zone),
            None if ata is None else local(ata, zone),
            terminal,
            LIFECYCLE_WORDS.get(lifecycle, lifecycle),
            "" if available is None else ("Yes" if available else "No"),
            self._holds_text(holds),
            last_free_day,
            days_left,
            demurrage,
            total_fees,
            None if appointment_at is None else local(appointment_at, zone),
            light,
            rule,
            reason,
            None if last_observed_at is None else local(last_observed_at, zone),
            _latest_source(_json(freshness)),
        ]
        if clock.fixed is None:
            values.append(zone)
        return values


# --- Events ----------------------------------------------------------------------------------


def event_columns(clock: Clock) -> list[Column]:
    columns = [
        Column("Container", 14),
        Column(f"When ({clock.label})", 17, "datetime"),
        Column("Code", 7),
        Column("Event", 22),
        Column("ACT/EST/PLN", 8),
        Column("Place", 18),
        Column("Vessel / voyage", 24),
        Column("Source", 20),
    ]
    if clock.fixed is None:
        columns.insert(2, Column("Zone", 20))
    return columns


def _event_words(code: str, classifier: str, facet: str) -> str:
    words = EVENT_WORDS.get(code, code)
    if facet:
        words = f"{words} ({facet})"
    if code == "PICK" and classifier == "PLN":
        words = "Pick-up appointment"
    elif code == "ARRI" and classifier == "EST":
        words = "Vessel ETA"
    return words


def write_events(sheet: SheetWriter, events: Iterable[Sequence[Any]], clock: Clock) -> None:
    """The Events sheet from `queries.event_rows`: (container, UTC serial or None, shown).

    The hot path of a workbook (half a million rows). A row is its container's cell (cached: a
    container has many events), its time, and the rest — zone, code, words, place, vessel,
    source — which `shown` (one text, see queries.EVENT_KEY_PARTS) names: each distinct
    combination is rendered once and reused.
    """
    sheet.extend_rendered(_event_cells(sheet, events, clock))


def _event_cells(sheet: SheetWriter, events: Iterable[Sequence[Any]], clock: Clock) -> Iterator[str]:
    # The one Python loop run per event (the writer wraps the rows in C), so what is looked up
    # per row is prepared once: per container the cells up to the time, per `shown` the cells
    # after it and its zone.
    render = sheet.render
    when_opening = sheet.opening(1)
    local_seconds = clock.local_seconds
    last_container, head, blank_head = None, "", ""
    rests: dict[str, tuple[str, str]] = {}  # shown → (zone, cells after the time)
    for container, utc, shown in events:
        rest = rests.get(shown)
        if rest is None:
            if len(rests) >= _REST_CACHE_LIMIT:
                rests.clear()
            rest = rests[shown] = _render_event_rest(sheet, clock, shown)
        if container != last_container:  # events come container by container
            last_container = container
            first = render((container,))
            head, blank_head = first + when_opening, first + BLANK_CELL
        zone, cells = rest
        if utc is None:
            yield blank_head + cells
        else:
            yield f"{head}{serial_text(local_seconds(utc, zone))}</v></c>{cells}"


def _render_event_rest(sheet: SheetWriter, clock: Clock, shown: str) -> tuple[str, str]:
    """(zone, the cells after the time): (Zone,) Code, Event, ACT/EST/PLN, Place, Vessel, Source."""
    parts = shown.split(queries.EVENT_KEY_SEPARATOR, 8)
    zone_name, code, classifier, details, facility, location, vessel_name, voyage, source = parts
    zone = clock.fixed or zone_name or "UTC"
    facet = (orjson.loads(details).get("facet") or "") if details.startswith("{") else ""
    words = _event_words(code, classifier, facet)
    values = [
        code,
        words,
        classifier,
        facility or location,
        _vessel(vessel_name or None, voyage or None),
        source,
    ]
    if clock.fixed is None:
        return zone, sheet.render([zone, *values], start=2)
    return zone, sheet.render(values, start=2)


# --- Exceptions ------------------------------------------------------------------------------


def exception_columns(clock: Clock) -> list[Column]:
    columns = [
        Column("Light", 8, "light"),
        Column("Subject", 16),
        Column("About", 10),
        Column("Rule", 18),
        Column("Why", 40),
        Column(f"Since ({clock.label})", 18, "datetime"),
        Column("Customer", 18),
        Column("Order", 18),
        Column("B/L", 18),
        Column("Terminal", 16),
        Column("Last free day", 13, "date"),
    ]
    if clock.fixed is None:
        columns.append(Column("Zone", 20))
    return columns


def _about(kind: str, subject: str, containers: Collection[str]) -> str:
    if subject in containers:
        return "container"
    if kind == "review":
        return "review"
    if kind == "source" or subject.split(":", 1)[0] in ("portal", "mail", "import", "export"):
        return "source"
    return "B/L"


def exception_rows(
    session: Session,
    links: queries.LinkIndex,
    clock: Clock,
    numbers: Collection[str] | None,
) -> list[list[Any]]:
    """Everything amber or red: containers' lights and open alerts, each with its rule; red first."""
    found: dict[tuple[str, str], list[Any]] = {}
    zones: dict[str, str] = {}
    bills: set[str] = set()
    for number, bill, terminal, row_zone, light, rule, reason, last_free_day in queries.exception_containers(
        session, numbers
    ):
        zone = clock.zone_name(row_zone)
        zones[number] = zone
        orders, customers = links.of(number, bill)
        if bill:
            bills.add(bill)
        if last_free_day.__class__ is str:
            last_free_day = date.fromisoformat(last_free_day)
        values = [
            light,
            number,
            "container",
            rule or "(default)",
            reason,
            None,
            customers,
            orders,
            bill,
            terminal,
            last_free_day,
        ]
        if clock.fixed is None:
            values.append(zone)
        found[(number, rule or "(default)")] = values
    known = set(zones)
    mine = set(numbers) if numbers is not None else None
    for alert in queries.open_alerts(session):
        subject = alert.subject
        if mine is not None and subject not in mine and subject not in bills:
            continue  # a customer's workbook shows only the customer's containers and B/Ls
        zone = zones.get(subject) or clock.zone_name(None)
        since = clock.local(alert.created_at, zone)
        existing = found.get((subject, alert.rule))
        if existing is not None:
            existing[5] = existing[5] or since
            continue
        values = [
            alert.light,
            subject,
            _about(alert.kind, subject, known),
            alert.rule,
            alert.reason,
            since,
            "",
            "",
            "",
            "",
            None,
        ]
        if clock.fixed is None:
            values.append(zone)
        found[(subject, alert.rule)] = values
    rank = {"red": 0, "amber": 1}
    return sorted(found.values(), key=lambda values: (rank.get(values[0], 2), values[1], values[3]))


# --- Sources ---------------------------------------------------------------------------------


def source_columns(zone: str, *, with_errors: bool) -> list[Column]:
    columns = [
        Column("Source", 24),
        Column("Kind", 9),
        Column("Outcome", 14, "light", lights=OUTCOME_LIGHTS),
        Column(f"Started ({zone})", 18, "datetime"),
        Column(f"Ended ({zone})", 18, "datetime"),
        Column("Trigger", 10),
        Column("Counts", 40),
        Column("Errors", 8, "int"),
        Column(f"Last ok ({zone})", 18, "datetime"),
    ]
    if with_errors:
        columns.append(Column("First error", 50))
    return columns


def _counts_text(counts: dict[str, Any]) -> str:
    return ", ".join(
        f"{name} {value}" for name, value in counts.items() if value not in (None, "", 0, {}, [])
    )


def source_values(run: queries.SourceRun, zone: str, clock: Clock, *, with_errors: bool) -> list[Any]:
    values: list[Any] = [
        run.source,
        run.kind,
        run.outcome,
        clock.local(run.started_at, zone),
        clock.local(run.ended_at, zone),
        run.trigger,
        _counts_text(run.counts),
        len(run.errors),
        clock.local(run.last_ok_at, zone),
    ]
    if with_errors:
        first = run.errors[0] if run.errors else {}
        values.append(f"{first.get('kind', '')}: {first.get('message', '')}".strip(": ") if first else "")
    return values


# --- Hotspots --------------------------------------------------------------------------------


HotspotsFunction = Callable[..., list[dict[str, Any]]]


def find_hotspots() -> HotspotsFunction | None:
    """api.hotspots.hotspots, when that part of quaysync is present (imported only here)."""
    try:
        from api.hotspots import hotspots
    except ImportError:
        return None
    return hotspots if callable(hotspots) else None


HOTSPOT_COLUMNS = [
    Column("Terminal", 18),
    Column("Carrier", 14),
    Column("Route", 22),
    Column("Week", 10),
    Column("Alerts", 8, "int"),
    Column("Red", 6, "int"),
    Column("Amber", 7, "int"),
    Column("Green", 7, "int"),
    Column("Open", 6, "int"),
    Column("Rules", 40),
]


def hotspot_values(group: dict[str, Any]) -> list[Any]:
    rules = group.get("rules") or {}
    return [
        group.get("terminal"),
        group.get("carrier"),
        group.get("route"),
        group.get("week"),
        group.get("alerts"),
        group.get("red"),
        group.get("amber"),
        group.get("green"),
        group.get("open"),
        ", ".join(f"{name}: {count}" for name, count in sorted(rules.items(), key=lambda item: -item[1])),
    ]
