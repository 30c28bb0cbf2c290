"""The workbook writer's pieces: local times across clock changes, cell text, Excel's limits."""

from __future__ import annotations

import io
import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from sync.export import cells, xlsx
from sync.export.cells import SERIAL_EXACT_DAYS, Column, excel_serial, serial_text
from sync.export.clock import Clock
from sync.export.sheets import holds_text
from sync.export.xlsx import XlsxWriter

ZONES = (
    "America/Los_Angeles",
    "Europe/London",
    "Australia/Lord_Howe",
    "America/St_Johns",
    "Asia/Kathmandu",
    "UTC",
)
# Moments near the 2026 clock changes of those zones, where a cached hourly offset would go wrong.
CHANGES = [
    datetime(2026, 3, 8, 10, 0, tzinfo=UTC),  # Los Angeles springs forward
    datetime(2026, 11, 1, 9, 0, tzinfo=UTC),  # ... and falls back
    datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # London
    datetime(2026, 4, 4, 15, 0, tzinfo=UTC),  # Lord Howe: half an hour, at :00 UTC
    datetime(2026, 10, 3, 15, 30, tzinfo=UTC),  # ... and back, at :30 UTC
    datetime(2026, 3, 8, 5, 30, tzinfo=UTC),  # St John's (-03:30)
]


def expected(moment: datetime, zone: str) -> float:
    return excel_serial(moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None))


@settings(max_examples=300, deadline=None)
@given(
    change=st.sampled_from(CHANGES),
    seconds=st.integers(min_value=-7200, max_value=7200),
    zone=st.sampled_from(ZONES),
)
def test_local_serials_match_zoneinfo_around_clock_changes(change: datetime, seconds: int, zone: str) -> None:
    clock = Clock(datetime(2026, 1, 1, tzinfo=UTC), None)
    moment = change + timedelta(seconds=seconds)
    want = expected(moment, zone)
    text = moment.replace(tzinfo=None).isoformat(" ", "microseconds")  # as SQLite stores it
    utc_serial = excel_serial(moment.replace(tzinfo=None))  # as the database computes it
    # every way a moment reaches the clock gives the same wall-clock time, to well under a second
    for got in (
        clock.serial(moment, zone),
        clock.serial(moment.replace(tzinfo=None), zone),
        clock.serial(text, zone),
        clock.from_utc_serial(utc_serial, zone),
    ):
        assert got == pytest.approx(want, abs=1e-7)
    # and again from a warm cache (the hour's offset is remembered, unless the clock changes in it)
    assert clock.from_utc_serial(utc_serial, zone) == pytest.approx(want, abs=1e-7)
    assert clock.serial(text, zone) == pytest.approx(want, abs=1e-7)


def test_holds_text() -> None:
    assert holds_text({}) == "" and holds_text(None) == ""
    assert holds_text({"customs": "released", "freight": "released"}) == "none"
    mixed = {"freight": "hold", "customs": "inspection", "line": "released"}
    assert holds_text(mixed) == "customs inspection, freight"


def write(columns: list[Column], rows: list[list]) -> object:
    stream = io.BytesIO()
    book = XlsxWriter(stream)
    book.add_sheet("S", columns, len(rows))
    with book, book.sheet("S") as sheet:
        sheet.extend(rows)
    stream.seek(0)
    return load_workbook(stream)["S"]


def test_text_is_escaped_cleaned_and_kept_within_excel_limits() -> None:
    long_text = "x" * 40_000
    sheet = write(
        [Column("A", 10), Column("B", 10), Column("C", 10)],
        [
            ["<b>Tom & Jerry</b>", "  padded  ", "bell\x07 and \x00 nul"],
            [long_text, '=HYPERLINK("http://evil")', "箱号\n第二行"],
            [None, "", "after two blanks"],
        ],
    )
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1] == ("<b>Tom & Jerry</b>", "  padded  ", "bell and  nul")
    assert len(rows[2][0]) == cells.MAX_CELL_TEXT and rows[2][0].endswith("…")
    assert rows[2][1] == '=HYPERLINK("http://evil")' and sheet["B3"].data_type == "s"  # text, never a formula
    assert rows[2][2] == "箱号\n第二行"
    assert rows[3] == (None, None, "after two blanks")  # blanks keep the columns in place


def test_numbers_dates_and_lights() -> None:
    sheet = write(
        [Column("When", 16, "datetime"), Column("Day", 10, "date"), Column("N", 5, "int"),
         Column("Fee", 8, "money"), Column("Light", 8, "light"),
         Column("Outcome", 8, "light", lights={"ok": "green", "failed": "red"})],
        [
            [datetime(2026, 11, 20, 14, 30, 15), datetime(2026, 11, 23).date(), 3, 1245.5, "amber", "failed"],
            [46346.5, None, -2, float("nan"), "purple", "ok"],
        ],
    )  # fmt: skip
    assert sheet["A2"].value == datetime(2026, 11, 20, 14, 30, 15)
    assert sheet["A2"].number_format == "yyyy-mm-dd hh:mm"
    assert sheet["A3"].value == datetime(2026, 11, 20, 12, 0)  # a serial number is taken as is
    assert sheet["B2"].value == datetime(2026, 11, 23) and sheet["B2"].number_format == "yyyy-mm-dd"
    assert (sheet["C2"].value, sheet["C3"].value) == (3, -2)
    assert (sheet["D2"].value, sheet["D3"].value) == (1245.5, None)  # NaN is no number to show
    assert sheet["E2"].fill.fgColor.rgb.endswith("FFEB9C") and sheet["E3"].fill.fill_type is None
    assert sheet["F2"].fill.fgColor.rgb.endswith("FFC7CE") and sheet["F3"].fill.fgColor.rgb.endswith("C6EFCE")


def test_rows_past_excel_limit_are_counted_not_written(monkeypatch) -> None:
    monkeypatch.setattr(xlsx, "MAX_ROWS", 4)  # the header and three rows
    stream = io.BytesIO()
    book = XlsxWriter(stream)
    book.add_sheet("S", [Column("A", 10)], 5)
    with book, book.sheet("S") as sheet:
        sheet.extend([[f"row {number}"] for number in range(5)])
    assert (sheet.rows, sheet.truncated) == (3, 2)
    stream.seek(0)
    written = [row[0] for row in load_workbook(stream)["S"].iter_rows(values_only=True)]
    assert written == ["A", "row 0", "row 1", "row 2"]

    stream = io.BytesIO()  # the bulk path of pre-rendered rows keeps the same limit
    book = XlsxWriter(stream)
    book.add_sheet("S", [Column("A", 10)], 5)
    with book, book.sheet("S") as sheet:
        sheet.extend_rendered(sheet.render([f"event {number}"]) for number in range(5))
    assert (sheet.rows, sheet.truncated) == (3, 2)
    stream.seek(0)
    written = [row[0] for row in load_workbook(stream)["S"].iter_rows(values_only=True)]
    assert written == ["A", "event 0", "event 1", "event 2"]


def test_sheets_are_declared_before_writing() -> None:
    book = XlsxWriter(io.BytesIO())
    book.add_sheet("S", [Column("A", 10)], 0)
    with book, pytest.raises(RuntimeError, match="declare every sheet"):
        book.add_sheet("T", [Column("A", 10)], 0)


def test_links_of_a_container_and_of_its_whole_bill() -> None:
    from sync.export.rows import LinkIndex

    links = LinkIndex()
    links.add("MSKU1234565", "MAEU1", "PO-1", "Acme")
    links.add("TGHU6961213", "MAEU1", "PO-2", "Acme")  # a sibling on the same B/L: not MSKU's order
    links.add("", "MAEU1", "PO-9", "Beta")  # an order of the whole B/L: every container's
    links.add("", "COSU2", "", "Gamma")  # a shipment's customer
    assert links.of("MSKU1234565", "MAEU1") == ("PO-1, PO-9", "Acme, Beta")
    assert links.of("TGHU6961213", "MAEU1") == ("PO-2, PO-9", "Acme, Beta")
    assert links.of("CSQU3054383", "COSU2") == ("", "Gamma")
    assert links.of("CSQU3054383", None) == ("", "")
    assert links.containers_of("Acme") == {"MSKU1234565", "TGHU6961213"} and links.bills_of("Beta") == {
        "MAEU1"
    }


def test_serial_text_is_the_float_formatting_it_replaces() -> None:
    """cells.serial_text builds a second's serial number from a table: the same text as formatting
    the float, for every second of days across the range (a sample) and past it."""
    rng = random.Random(6346)
    days = [
        0,
        1,
        45_991,
        SERIAL_EXACT_DAYS - 1,
        SERIAL_EXACT_DAYS,
        80_000,
        *rng.sample(range(SERIAL_EXACT_DAYS), 40),
    ]
    for day in days:
        for second in range(0, 86_400, 7):
            seconds = day * 86_400 + second
            assert serial_text(seconds) == f"{seconds / 86_400:.10f}", seconds
