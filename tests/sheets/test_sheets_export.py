"""The analysts' workbook, read back with openpyxl cell by cell; per-customer files; atomic replace;
LibreOffice opening it (where installed)."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
import threading
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sheet_files import BOX_A, BOX_B, BOX_C
from sqlalchemy import update

from quaysync.config import Config, ExportOptions, parse_config
from quaysync.model import Observation
from store import AlertRow, ContainerStatusRow, OrderLinkRow, RunRow, Store
from store.runs import finish_run, start_run
from sync import ingest
from sync.export import export_workbooks, run_export
from sync.pipeline import build_ingest_settings

LA = "America/Los_Angeles"
SHANGHAI = "Asia/Shanghai"
NOW = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)  # 10:00 in Los Angeles, 02:00 on the 21st in Shanghai
SEEN = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
CONTAINER_HEADERS = [
    "Container", "Customer", "Order", "B/L", "Line", "Vessel / voyage", "ETA (local time)",
    "ATA (local time)", "Terminal", "Status", "Available", "Holds", "Last free day", "Days left",
    "Demurrage", "Fees", "Appointment (local time)", "Light", "Rule", "Why",
    "Last update (local time)", "Source", "Zone",
]  # fmt: skip


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return parse_config({"data_dir": str(tmp_path / "var")}, tmp_path)


def observe(number: str, zone: str, **fields: str) -> Observation:
    return Observation(
        source="portal:terminal",
        source_ref=f"https://terminal.example/{number}",
        observed_at=SEEN,
        fields={"container_no": number, **fields},
        time_zone=zone,
        parser="test/1",
    )


def fill_store(store: Store, config: Config) -> None:
    """Three containers through the real ingest path, links, lights, an alert and runs."""
    observations = [
        observe(
            BOX_A,
            LA,
            mbl_no="MAEU240001234",
            carrier="MAERSK",
            vessel="MAERSK ESSEN",
            voyage="447E",
            eta="2026-11-18 06:00",
            ata="2026-11-18 09:30",
            terminal="LBCT",
            status="Discharged",
            available="Yes",
            customs_release="Hold",
            freight_release="Released",
            last_free_day="2026-11-23",
            demurrage="$1,245.50",
            appointment_date="2026-11-22 08:15",
            discharge_date="2026-11-19 13:45",
        ),
        observe(
            BOX_B, SHANGHAI, mbl_no="COSU8001234560", terminal="YICT", status="On vessel", eta="2026-12-01"
        ),
        observe(BOX_C, LA, terminal="LBCT", status="Gated out", gate_out_date="2026-11-20 07:00"),
    ]
    with store.session() as session:
        ingest(session, observations, settings=build_ingest_settings(config), now=SEEN)
        session.add_all(
            [
                OrderLinkRow(order_ref="PO-1", bill_of_lading="MAEU240001234", container_number=BOX_A,
                             customer="Acme", source="import:erp", created_at=SEEN),
                OrderLinkRow(order_ref="PO-2", bill_of_lading="MAEU240001234", container_number="",
                             customer="Acme", source="import:erp", created_at=SEEN),
                OrderLinkRow(order_ref="SO-9", bill_of_lading="COSU8001234560", container_number="",
                             customer="宁波/贸易", source="import:erp", created_at=SEEN),
            ]
        )  # fmt: skip
        lights = {
            BOX_A: ("red", "lfd_soon", "last free day ends in 2 days, customs hold"),
            BOX_B: ("amber", None, "no news for 30 h"),
            BOX_C: ("green", None, None),
        }
        for number, (light, rule, reason) in lights.items():
            session.execute(
                update(ContainerStatusRow)
                .where(ContainerStatusRow.container_number == number)
                .values(traffic_light=light, light_rule=rule, light_reason=reason)
            )
        session.add_all(
            [
                AlertRow(kind="rule", rule="lfd_soon", subject=BOX_A, dedupe_key="lfd_soon:a", light="red",
                         reason="last free day ends in 2 days", created_at=NOW - timedelta(hours=3)),
                AlertRow(kind="source", rule="blocked", subject="portal:terminal", dedupe_key="blocked:p",
                         light="red", reason="CAPTCHA on login", created_at=NOW - timedelta(hours=1)),
                AlertRow(kind="rule", rule="old", subject=BOX_C, dedupe_key="old", light="amber", reason="x",
                         state="resolved", created_at=NOW - timedelta(days=2)),
            ]
        )  # fmt: skip
        run = start_run(session, "portal:terminal", "scrape", "schedule")
        finish_run(session, run, "blocked", {"containers": 3}, [{"kind": "blocked", "message": "CAPTCHA"}])
        run = start_run(session, "mail:carrier", "mail", "schedule")
        finish_run(session, run, "ok", {"messages": 2})


def rows_of(sheet) -> list[tuple]:
    return list(sheet.iter_rows(values_only=True))


def by_container(sheet) -> dict[str, dict]:
    """Container number → {header: cell} (rows are in container-number order)."""
    headers = [cell.value for cell in sheet[1]]
    return {row[0].value: dict(zip(headers, row, strict=False)) for row in sheet.iter_rows(min_row=2)}


def test_workbook_read_back_cell_by_cell(any_store: Store, config: Config, tmp_path: Path) -> None:
    fill_store(any_store, config)
    (summary,) = export_workbooks(any_store, tmp_path / "out" / "containers.xlsx", now=NOW)
    assert (summary.containers, summary.events, summary.exceptions, summary.sources) == (
        3,
        summary.events,
        3,
        2,
    )

    book = load_workbook(tmp_path / "out" / "containers.xlsx")
    assert book.sheetnames[:4] == ["Containers", "Events", "Exceptions", "Sources"]
    sheet = book["Containers"]
    assert [cell.value for cell in sheet[1]] == CONTAINER_HEADERS
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:W4"
    assert sheet.column_dimensions["A"].width == 14 and sheet.column_dimensions["T"].width == 32
    assert sheet["A1"].font.bold and sheet["A1"].fill.fgColor.rgb.endswith("DDEBF7")

    assert [row[0] for row in rows_of(sheet)[1:]] == [BOX_C, BOX_A, BOX_B]  # by container number
    rows = by_container(sheet)
    a = rows[BOX_A]
    assert a["Container"].value == BOX_A and len(a) == len(CONTAINER_HEADERS)
    assert a["Customer"].value == "Acme" and a["Order"].value == "PO-1, PO-2"  # direct and through the B/L
    assert (a["B/L"].value, a["Line"].value, a["Vessel / voyage"].value) == (
        "MAEU240001234",
        "MAERSK",
        "MAERSK ESSEN / 447E",
    )
    # real Excel dates, in the container's own (terminal's) zone, as the portal wrote them
    assert a["ETA (local time)"].value == datetime(2026, 11, 18, 6, 0)
    assert a["ATA (local time)"].value == datetime(2026, 11, 18, 9, 30)
    assert a["ETA (local time)"].number_format == "yyyy-mm-dd hh:mm" and a["ETA (local time)"].is_date
    assert a["Appointment (local time)"].value == datetime(2026, 11, 22, 8, 15)
    assert (
        a["Last free day"].value == datetime(2026, 11, 23)
        and a["Last free day"].number_format == "yyyy-mm-dd"
    )
    assert a["Days left"].value == 3  # 20 Nov in Los Angeles at NOW → 23 Nov
    assert a["Demurrage"].value == 1245.5 and a["Demurrage"].number_format == "#,##0.00"
    assert a["Fees"].value is None
    assert (a["Terminal"].value, a["Status"].value, a["Available"].value) == ("LBCT", "Discharged", "Yes")
    assert a["Holds"].value == "customs"
    assert a["Light"].value == "red" and a["Light"].fill.fgColor.rgb.endswith("FFC7CE")
    assert a["Light"].font.color.rgb.endswith("9C0006")
    assert (a["Rule"].value, a["Why"].value) == ("lfd_soon", "last free day ends in 2 days, customs hold")
    assert a["Last update (local time)"].value == datetime(2026, 11, 20, 9, 0)  # SEEN in Los Angeles
    assert (a["Source"].value, a["Zone"].value) == ("portal:terminal", LA)

    b = {header: cell.value for header, cell in rows[BOX_B].items()}
    assert (b["Container"], b["Customer"], b["Order"], b["Zone"]) == (BOX_B, "宁波/贸易", "SO-9", SHANGHAI)
    assert b["ETA (local time)"] == datetime(2026, 12, 1, 0, 0) and b["Status"] == "In transit"
    assert b["Light"] == "amber" and rows[BOX_B]["Light"].fill.fgColor.rgb.endswith("FFEB9C")
    c = {header: cell.value for header, cell in rows[BOX_C].items()}
    assert (c["Container"], c["Status"], c["Days left"], c["Customer"]) == (BOX_C, "Gated out", None, None)
    assert rows[BOX_C]["Light"].fill.fgColor.rgb.endswith("C6EFCE")
    assert rows[BOX_C]["ETA (local time)"].value is None  # a blank cell, not an empty text

    events = book["Events"]
    assert [cell.value for cell in events[1]] == [
        "Container", "When (local time)", "Zone", "Code", "Event", "ACT/EST/PLN", "Place", "Vessel / voyage",
        "Source",
    ]  # fmt: skip
    assert events.freeze_panes == "A2" and events.auto_filter.ref == f"A1:I{summary.events + 1}"
    found = {(row[0], row[3], row[5]): row for row in rows_of(events)[1:]}
    assert found[(BOX_A, "DISC", "ACT")][1] == datetime(2026, 11, 19, 13, 45)
    assert found[(BOX_A, "DISC", "ACT")][2:5] == (LA, "DISC", "Discharged")
    assert found[(BOX_A, "ARRI", "EST")][1:] == (
        datetime(2026, 11, 18, 6, 0),
        LA,
        "ARRI",
        "Vessel ETA",
        "EST",
        "LBCT",
        "MAERSK ESSEN / 447E",
        "portal:terminal",
    )
    assert found[(BOX_A, "PICK", "PLN")][4] == "Pick-up appointment"
    assert found[(BOX_A, "HOLD", "ACT")][4] == "Hold (customs)"
    assert found[(BOX_B, "ARRI", "EST")][1:3] == (datetime(2026, 12, 1, 0, 0), SHANGHAI)
    assert found[(BOX_C, "GTOT", "ACT")][1] == datetime(2026, 11, 20, 7, 0)
    assert events["B2"].number_format == "yyyy-mm-dd hh:mm"
    containers_in_order = [row[0] for row in rows_of(events)[1:]]
    assert containers_in_order == sorted(containers_in_order)

    exceptions = rows_of(book["Exceptions"])
    assert exceptions[0][:6] == ("Light", "Subject", "About", "Rule", "Why", "Since (local time)")
    assert [row[:4] for row in exceptions[1:]] == [
        ("red", BOX_A, "container", "lfd_soon"),
        ("red", "portal:terminal", "source", "blocked"),
        ("amber", BOX_B, "container", "(default)"),
    ]
    assert exceptions[1][5] == datetime(2026, 11, 20, 7, 0)  # the alert's time, in Los Angeles
    assert exceptions[1][6:11] == ("Acme", "PO-1, PO-2", "MAEU240001234", "LBCT", datetime(2026, 11, 23))
    assert exceptions[2][5] == datetime(2026, 11, 20, 17, 0) and exceptions[2][11] == "UTC"
    assert book["Exceptions"]["A2"].fill.fgColor.rgb.endswith("FFC7CE")

    sources = rows_of(book["Sources"])
    assert sources[0] == (
        "Source", "Kind", "Outcome", "Started (UTC)", "Ended (UTC)", "Trigger", "Counts", "Errors",
        "Last ok (UTC)", "First error",
    )  # fmt: skip
    by_source = {row[0]: row for row in sources[1:]}
    assert by_source["portal:terminal"][1:3] == ("scrape", "blocked")
    assert (
        by_source["portal:terminal"][6:8] == ("containers 3", 1)
        and by_source["portal:terminal"][9] == "blocked: CAPTCHA"
    )
    assert by_source["mail:carrier"][2] == "ok" and isinstance(by_source["mail:carrier"][8], datetime)
    assert book["Sources"]["C2"].fill.fgColor.rgb.endswith("C6EFCE")  # mail:carrier ok
    assert book["Sources"]["C3"].fill.fgColor.rgb.endswith("FFC7CE")  # portal:terminal blocked
    assert "UTC" in book.properties.description and "Zone column" in book.properties.description


def test_one_time_zone_for_the_whole_workbook(sqlite_store: Store, config: Config, tmp_path: Path) -> None:
    fill_store(sqlite_store, config)
    export_workbooks(sqlite_store, tmp_path / "sh.xlsx", now=NOW, time_zone=SHANGHAI)
    sheet = load_workbook(tmp_path / "sh.xlsx")["Containers"]
    headers = [cell.value for cell in sheet[1]]
    assert "ETA (Asia/Shanghai)" in headers and "Zone" not in headers and len(headers) == 22
    row = {header: cell.value for header, cell in by_container(sheet)[BOX_A].items()}
    assert row["ETA (Asia/Shanghai)"] == datetime(2026, 11, 18, 22, 0)  # 06:00 in Los Angeles
    assert row["Days left"] == 2  # it is already 21 Nov in Shanghai
    assert sheet.auto_filter.ref == "A1:V4"


def test_one_workbook_per_customer(sqlite_store: Store, config: Config, tmp_path: Path) -> None:
    fill_store(sqlite_store, config)
    export = ExportOptions(
        name="customers", path=str(tmp_path / "by-customer" / "{customer}.xlsx"), per_customer=True
    )
    result = run_export(config, export, sqlite_store, trigger="manual", now=NOW)

    assert result.outcome == "ok" and result.error is None
    names = sorted(Path(path).name for path in result.paths)
    assert names == ["Acme.xlsx", "宁波_贸易.xlsx"]  # the slash cannot be part of a file name
    acme = load_workbook(tmp_path / "by-customer" / "Acme.xlsx")
    assert [row[0] for row in rows_of(acme["Containers"])[1:]] == [BOX_A]
    assert {row[0] for row in rows_of(acme["Events"])[1:]} == {BOX_A}
    assert [row[1] for row in rows_of(acme["Exceptions"])[1:]] == [BOX_A]  # no source alerts, no others
    assert "Hotspots" not in acme.sheetnames and rows_of(acme["Sources"])[0][-1] == "Last ok (UTC)"
    ningbo = load_workbook(tmp_path / "by-customer" / "宁波_贸易.xlsx")
    assert [row[0] for row in rows_of(ningbo["Containers"])[1:]] == [BOX_B]  # linked through its B/L
    with sqlite_store.session() as session:
        run = session.get(RunRow, result.run_id)
        assert (run.source, run.kind, run.outcome) == ("export:customers", "export", "ok")
        assert run.counts == {
            "workbooks": 2,
            "containers": 2,
            "events": result.counts()["events"],
            "exceptions": 2,
        }
        assert sorted(run.evidence) == sorted(result.paths)


def test_hotspots_sheet_or_a_note_when_absent(
    sqlite_store: Store, config: Config, tmp_path: Path, monkeypatch
) -> None:
    fill_store(sqlite_store, config)
    (with_sheet,) = export_workbooks(sqlite_store, tmp_path / "a.xlsx", now=NOW)
    book = load_workbook(tmp_path / "a.xlsx")
    assert "Hotspots" in book.sheetnames and with_sheet.hotspots == len(rows_of(book["Hotspots"])) - 1
    assert rows_of(book["Hotspots"])[0][:5] == ("Terminal", "Carrier", "Route", "Week", "Alerts")

    def broken(session, **_options):
        raise RuntimeError("no such column: route")

    monkeypatch.setattr("api.hotspots.hotspots", broken)
    (failed,) = export_workbooks(sqlite_store, tmp_path / "f.xlsx", now=NOW)
    assert "Hotspots" not in load_workbook(tmp_path / "f.xlsx").sheetnames and failed.hotspots is None
    assert failed.notes == ["Hotspots: left out, they failed (RuntimeError: no such column: route)"]

    monkeypatch.setitem(sys.modules, "api.hotspots", None)  # as if that part were not installed
    (without,) = export_workbooks(sqlite_store, tmp_path / "b.xlsx", now=NOW)
    assert "Hotspots" not in load_workbook(tmp_path / "b.xlsx").sheetnames
    assert without.hotspots is None and without.notes == [
        "Hotspots: not available in this installation (api.hotspots)"
    ]


def test_failed_write_is_a_failed_run_and_keeps_nothing_half_written(
    sqlite_store: Store, config: Config, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the export folder should be")
    export = ExportOptions(name="broken", path=str(blocker / "out.xlsx"))
    result = run_export(config, export, sqlite_store, now=NOW)
    assert result.outcome == "failed" and "cannot write" in result.error
    with sqlite_store.session() as session:
        run = session.get(RunRow, result.run_id)
        assert run.outcome == "failed" and run.errors[0]["kind"] == "io"
    assert blocker.read_text() == "a file where the export folder should be"


def test_atomic_replace_readers_see_old_or_new_never_broken(
    sqlite_store: Store, config: Config, tmp_path: Path
) -> None:
    fill_store(sqlite_store, config)
    target = tmp_path / "shared" / "containers.xlsx"
    export_workbooks(sqlite_store, target, now=NOW)
    done = threading.Event()
    failures: list[str] = []
    opened = 0

    def read_repeatedly() -> None:
        nonlocal opened
        while not done.is_set() or opened < 5:
            try:
                book = load_workbook(target, read_only=True)
                rows = list(book["Containers"].iter_rows(values_only=True))
                book.close()
                if len(rows) != 4 or {row[0] for row in rows[1:]} != {BOX_A, BOX_B, BOX_C}:
                    failures.append(f"incomplete Containers sheet: {len(rows)} rows")
            except Exception as error:  # any failure to open is what this test is about
                failures.append(f"{type(error).__name__}: {error}")
            opened += 1

    reader = threading.Thread(target=read_repeatedly)
    reader.start()
    try:
        for _ in range(15):
            export_workbooks(sqlite_store, target, now=NOW)
    finally:
        done.set()
        reader.join(timeout=120)
    assert not reader.is_alive()
    assert failures == [] and opened >= 5
    assert [path.name for path in target.parent.iterdir()] == ["containers.xlsx"]  # no temporary left over


def test_libreoffice_opens_the_workbook(sqlite_store: Store, config: Config, tmp_path: Path) -> None:
    office = shutil.which("libreoffice") or shutil.which("soffice")
    if office is None:
        pytest.skip(
            "LibreOffice is not installed (no `libreoffice` or `soffice` on PATH): "
            "cannot check that it opens the workbook"
        )
    fill_store(sqlite_store, config)
    export_workbooks(sqlite_store, tmp_path / "containers.xlsx", now=NOW)

    def convert(target: str) -> None:
        completed = subprocess.run(
            [office, "--headless", f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}",
             "--convert-to", target, "--outdir", str(tmp_path / "out"), str(tmp_path / "containers.xlsx")],
            capture_output=True, text=True, timeout=180, check=False,
        )  # fmt: skip
        assert completed.returncode == 0, completed.stderr

    convert("pdf")
    pdf = tmp_path / "out" / "containers.pdf"
    assert pdf.is_file() and pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 1000
    # and it read the cells where they belong (cells carry no references; see sync/export/xlsx.py)
    convert("csv:Text - txt - csv (StarCalc):44,34,76,1")
    lines = (tmp_path / "out" / "containers.csv").read_text(encoding="utf-8").splitlines()
    assert next(csv.reader(lines[:1])) == CONTAINER_HEADERS
    row = next(csv.reader(line for line in lines if line.startswith(f'"{BOX_A}"')))
    shown = dict(zip(CONTAINER_HEADERS, row, strict=True))
    assert (shown["Customer"], shown["Order"], shown["Status"]) == ("Acme", "PO-1, PO-2", "Discharged")
    # the times as displayed: LibreOffice truncates to the minute, so 09:30 must not be 09:29:59.99
    assert (shown["ETA (local time)"], shown["ATA (local time)"]) == ("2026-11-18 06:00", "2026-11-18 09:30")
    assert (shown["Last free day"], shown["Days left"], shown["Demurrage"]) == ("2026-11-23", "3", "1,245.50")
    assert (shown["Light"], shown["Zone"]) == ("red", LA)


def test_package_parts_are_well_formed(sqlite_store: Store, config: Config, tmp_path: Path) -> None:
    """Every XML part parses, and each sheet's rows are numbered 1..n without gaps."""
    from xml.etree import ElementTree

    fill_store(sqlite_store, config)
    export_workbooks(sqlite_store, tmp_path / "c.xlsx", now=NOW)
    namespace = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    with zipfile.ZipFile(tmp_path / "c.xlsx") as package:
        assert package.testzip() is None
        for name in package.namelist():
            if name.endswith((".xml", ".rels")):
                root = ElementTree.fromstring(package.read(name))
                if name.startswith("xl/worksheets/"):
                    numbers = [int(row.get("r")) for row in root.iter(f"{namespace}row")]
                    assert numbers == list(range(1, len(numbers) + 1)), name


def test_the_project_reader_and_calamine_read_the_workbook_back(
    sqlite_store: Store, config: Config, tmp_path: Path
) -> None:
    """A second, independent reader (calamine, via parsers.tables) sees the same cells."""
    from parsers.tables import read_tables

    fill_store(sqlite_store, config)
    export_workbooks(sqlite_store, tmp_path / "c.xlsx", now=NOW)
    tables = {table.name: table for table in read_tables("c.xlsx", (tmp_path / "c.xlsx").read_bytes())}
    assert list(tables)[:4] == ["Containers", "Events", "Exceptions", "Sources"]
    containers = tables["Containers"].rows
    assert containers[0] == CONTAINER_HEADERS
    row = dict(zip(CONTAINER_HEADERS, next(r for r in containers if r[0] == BOX_A), strict=False))
    assert row["ETA (local time)"] == "2026-11-18 06:00" and row["Last free day"] == "2026-11-23"
    assert row["Demurrage"] == "1245.5" and row["Days left"] == "3" and row["Holds"] == "customs"
    assert row["Rule"] == "lfd_soon" and row["Zone"] == LA
