"""The analysts' workbook: Containers, Events, Exceptions, Sources and (where available) Hotspots.

Times are real Excel dates. Excel has no time zones, so each time is written as the wall-clock
time of one zone and the header says which: the export's `time_zone`, or by default each
container's own zone (its terminal's), named in a Zone column. "Days left" counts from today in
the container's zone. Sources' times are in the export's zone, else UTC.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import IO, Any

from sqlalchemy.orm import Session

from sync.export import rows as queries
from sync.export.clock import Clock
from sync.export.sheets import (
    HOTSPOT_COLUMNS,
    ContainerRows,
    container_columns,
    event_columns,
    exception_columns,
    exception_rows,
    find_hotspots,
    hotspot_values,
    source_columns,
    source_values,
    write_events,
)
from sync.export.xlsx import MAX_DATA_ROWS, XlsxWriter

HOTSPOT_WEEKS = 4  # the Hotspots sheet counts the alerts of the last four weeks

log = logging.getLogger(__name__)


@dataclass
class WorkbookSummary:
    path: str
    customer: str | None = None
    containers: int = 0
    events: int = 0
    exceptions: int = 0
    sources: int = 0
    hotspots: int | None = None  # None: no Hotspots sheet (see notes)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "customer": self.customer,
            "containers": self.containers,
            "events": self.events,
            "exceptions": self.exceptions,
            "sources": self.sources,
            "hotspots": self.hotspots,
            "notes": self.notes,
        }


# --- The workbook ----------------------------------------------------------------------------


def write_workbook(
    session: Session,
    target: IO[bytes],
    *,
    path: str,
    links: queries.LinkIndex,
    now: datetime | None = None,
    time_zone: str | None = None,
    customer: str | None = None,
    numbers: Collection[str] | None = None,
    exclude_run: int | None = None,
) -> WorkbookSummary:
    """Write the whole workbook to `target`; `numbers` (with `customer`) limits it to those containers."""
    now = now or datetime.now(UTC)
    clock = Clock(now, time_zone)
    summary = WorkbookSummary(path=path, customer=customer)
    book = XlsxWriter(target)
    zone_words = f"times in {time_zone}" if time_zone else "times in each container's own zone (Zone column)"
    book.describe(
        title=f"quaysync containers{f' — {customer}' if customer else ''}",
        description=f"Exported {now.astimezone(UTC):%Y-%m-%d %H:%M} UTC; {zone_words}.",
    )
    # The small sheets are built first and the big ones counted: every sheet's autofilter range
    # is part of the package openpyxl writes before the rows stream in.
    exceptions = exception_rows(session, links, clock, numbers)
    source_zone = time_zone or "UTC"
    with_errors = customer is None  # run errors may name other customers' containers
    sources = [
        source_values(run, source_zone, clock, with_errors=with_errors)
        for run in queries.last_runs(session, exclude_run=exclude_run)
    ]
    hotspot_rows: list[list[Any]] | None = None
    if customer is not None:
        summary.notes.append("Hotspots: left out of a customer's workbook (they count every customer)")
    else:
        hotspots = find_hotspots()
        if hotspots is None:
            summary.notes.append("Hotspots: not available in this installation (api.hotspots)")
        else:
            since = now - timedelta(weeks=HOTSPOT_WEEKS)
            try:
                hotspot_rows = [hotspot_values(group) for group in hotspots(session, since=since)]
            except Exception as error:  # another room's sheet: the workbook goes out without it
                log.exception("hotspots failed; the workbook is written without them")
                summary.notes.append(f"Hotspots: left out, they failed ({type(error).__name__}: {error})")
    event_count = queries.count_events(session, numbers)
    book.add_sheet("Containers", container_columns(clock), queries.count_containers(session, numbers))
    book.add_sheet("Events", event_columns(clock), event_count)
    book.add_sheet("Exceptions", exception_columns(clock), len(exceptions))
    book.add_sheet("Sources", source_columns(source_zone, with_errors=with_errors), len(sources))
    if hotspot_rows is not None:
        book.add_sheet("Hotspots", HOTSPOT_COLUMNS, len(hotspot_rows))

    with book:
        with book.sheet("Containers") as sheet:
            sheet.extend(map(ContainerRows(links, clock).values, queries.container_rows(session, numbers)))
            summary.containers = sheet.rows
        with book.sheet("Events") as sheet:
            write_events(sheet, queries.event_rows(session, numbers), clock)
            summary.events = sheet.rows
        if event_count > MAX_DATA_ROWS:
            summary.notes.append(
                f"Events: {event_count - MAX_DATA_ROWS} events past Excel's row limit left out"
            )
        with book.sheet("Exceptions") as sheet:
            sheet.extend(exceptions)
            summary.exceptions = sheet.rows
        with book.sheet("Sources") as sheet:
            sheet.extend(sources)
            summary.sources = sheet.rows
        if hotspot_rows is not None:
            with book.sheet("Hotspots") as sheet:
                sheet.extend(hotspot_rows)
                summary.hotspots = sheet.rows
    return summary
