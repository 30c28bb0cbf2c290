"""Excel ingest throughput: a 100,000-row, 15-column carrier availability workbook.

Measures, in one run on the same file:
  (a) parse: `read_tables` + `table_observations` (safety checks included)  → parse_rows_per_s
  (b) the baseline: openpyxl `load_workbook(read_only=True)` iterating every row to cell values
      (`iter_rows(values_only=True)`, openpyxl's fastest read path)        → openpyxl_rows_per_s
  (c) end to end: parse + normalize + merge into a fresh SQLite store with `sync.ingest`, in
      batches of 5,000 observations, one transaction each                   → end_to_end_rows_per_s

The workbook is written the way Excel writes one (shared strings, styled date cells, a merged
title, the header on row 4), by a small writer below: openpyxl would take ~30 s to write it.
Parse figures are the median of three runs (the machine is shared); the slow baseline runs once.

    .venv/bin/python bench/excel_ingest.py [--rows 100000] [--batch 5000] [--keep DIR] [--no-ingest]

Progress goes to stderr; the last line of stdout is one JSON object:
{"rows": 100000, "parse_rows_per_s": ..., "end_to_end_rows_per_s": ...,
 "openpyxl_rows_per_s": ..., "ratio": ...}
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import zipfile
from datetime import datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stdnum import iso6346

from parsers.tables import read_tables, table_observations
from quaysync.model import ParseContext

HEADER = [
    "Container No.", "B/L No.", "Vessel", "Voyage", "ETA", "Discharge Date", "Status", "Customs Status",
    "Freight Release", "Last Free Day", "Yard Location", "Size/Type", "Line", "Terminal", "Demurrage",
]  # fmt: skip
HEADER_ROW = 4
DATETIME_STYLE, DATE_STYLE = 1, 2
EXCEL_EPOCH = datetime(1899, 12, 30)
_MAIN = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def column_letters(index: int) -> str:
    letters, number = "", index + 1
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def excel_serial(moment: datetime) -> float:
    return round((moment - EXCEL_EPOCH) / timedelta(days=1), 10)


def container_numbers(count: int, rng: random.Random) -> list[str]:
    owners = ("MSCU", "MEDU", "TGHU", "CAIU", "FCIU", "GLDU", "TCNU", "SEGU")
    numbers: set[str] = set()
    while len(numbers) < count:
        body = f"{rng.choice(owners)}{rng.randrange(10**6):06d}"
        numbers.add(body + iso6346.calc_check_digit(body))
    return sorted(numbers)


def availability_rows(count: int, seed: int = 7) -> list[list[object]]:
    """What a carrier's availability report holds: a few vessels, their containers, their states."""
    rng = random.Random(seed)
    vessels = [
        ("MSC ANNA", "FA545W"),
        ("MSC GULSUN", "FA601E"),
        ("MSC OSCAR", "FA612W"),
        ("MSC TESSA", "FA618E"),
    ]
    base = datetime(2026, 11, 1, 6, 0)
    rows: list[list[object]] = []
    for index, number in enumerate(container_numbers(count, rng)):
        vessel, voyage = vessels[index % len(vessels)]
        eta = base + timedelta(hours=12 * (index % len(vessels)))
        discharged = eta + timedelta(hours=4 + index % 40, minutes=index % 60)
        status = rng.choice(("Discharged", "Available", "On vessel", "Customs hold", "Delivered"))
        rows.append([
            number, f"MEDU{rng.randrange(10**8):08d}", vessel, voyage, eta,
            None if status == "On vessel" else discharged, status,
            rng.choice(("Released", "Hold", "Released", "Released")),
            rng.choice(("Released", "Released", "Hold")),
            (discharged + timedelta(days=5)).replace(hour=0, minute=0),
            f"B{index % 40:02d}-{index % 12:02d}-{index % 5}",
            rng.choice(("45G1", "22G1", "42G1", "45R1")), "MSC", "APM Terminals Pier 400",
            float(rng.choice((0, 0, 0, 150, 300, 425.5))),
        ])  # fmt: skip
    return rows


def write_workbook(path: Path, rows: list[list[object]]) -> None:
    """A minimal but ordinary xlsx: shared strings, a date-time and a date style, a merged title."""
    strings: dict[str, int] = {}

    def cell(reference: str, value: object, date_column: bool) -> str:
        if value is None:
            return ""
        if isinstance(value, str):
            index = strings.setdefault(value, len(strings))
            return f'<c r="{reference}" t="s"><v>{index}</v></c>'
        if isinstance(value, datetime):
            style = DATE_STYLE if date_column else DATETIME_STYLE
            return f'<c r="{reference}" s="{style}"><v>{excel_serial(value)}</v></c>'
        return f'<c r="{reference}"><v>{value}</v></c>'

    letters = [column_letters(index) for index in range(len(HEADER))]
    date_columns = {HEADER.index("Last Free Day")}
    lines = []
    title = [("Availability report — MSC Mediterranean Shipping Company", 1), ("Printed 2026-11-05 14:02", 2)]
    for text, row_number in title:
        lines.append(f'<row r="{row_number}">{cell(f"A{row_number}", text, False)}</row>')
    header = "".join(cell(f"{letters[i]}{HEADER_ROW}", text, False) for i, text in enumerate(HEADER))
    lines.append(f'<row r="{HEADER_ROW}">{header}</row>')
    for offset, values in enumerate(rows, start=HEADER_ROW + 1):
        body = "".join(
            cell(f"{letters[i]}{offset}", value, i in date_columns) for i, value in enumerate(values)
        )
        lines.append(f'<row r="{offset}">{body}</row>')
    last = HEADER_ROW + len(rows)
    sheet = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet {_MAIN} xmlns:r="{_REL}">'
        f'<dimension ref="A1:{letters[-1]}{last}"/><sheetData>{"".join(lines)}</sheetData>'
        f'<mergeCells count="1"><mergeCell ref="A1:{letters[-1]}1"/></mergeCells></worksheet>'
    )
    shared = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst {_MAIN} count="{len(strings)}" '
        f'uniqueCount="{len(strings)}">'
        + "".join(f"<si><t>{escape(text)}</t></si>" for text in strings)
        + "</sst>"
    )
    styles = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<styleSheet {_MAIN}>'
        '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm"/></numFmts>'
        '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
        '<borders count="1"><border/></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="3">'
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
    )
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{_CONTENT_TYPE}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_CONTENT_TYPE}.worksheet+xml"/>'
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_CONTENT_TYPE}.sharedStrings+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{_CONTENT_TYPE}.styles+xml"/></Types>'
        ),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PACKAGE_REL}">'
            f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook {_MAIN} xmlns:r="{_REL}">'
            '<sheets><sheet name="Availability" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PACKAGE_REL}">'
            f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>'
            f'<Relationship Id="rId3" Type="{_REL}/styles" Target="styles.xml"/></Relationships>'
        ),
        "xl/worksheets/sheet1.xml": sheet,
        "xl/sharedStrings.xml": shared,
        "xl/styles.xml": styles,
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)


def context() -> ParseContext:
    return ParseContext(source="mail:msc-availability", source_ref="<bench@msc.example>")


def parse(content: bytes) -> list:
    [table] = read_tables("availability.xlsx", content)
    reading = table_observations(table, context(), parser="table/1")
    if reading.problems:
        raise SystemExit(f"unexpected row problems: {reading.problems[:3]}")
    return reading.observations


def openpyxl_rows(path: Path) -> int:
    import openpyxl

    workbook = openpyxl.load_workbook(path, read_only=True)
    try:
        count = 0
        for _values in workbook.worksheets[0].iter_rows(values_only=True):
            count += 1
        return count
    finally:
        workbook.close()


def end_to_end(content: bytes, database: Path, batch: int) -> float | None:
    try:
        from store import open_store
        from sync import ingest
    except ImportError as error:  # the store/sync rooms are not there: report the parse figures only
        log(f"end to end skipped: {error}")
        return None
    store = open_store(f"sqlite:///{database}")
    try:
        started = time.perf_counter()
        observations = parse(content)
        for start in range(0, len(observations), batch):
            with store.session() as session:
                report = ingest(session, observations[start : start + batch])
            log(f"  ingested {min(start + batch, len(observations)):,} rows: {report.received:,} received")
        elapsed = time.perf_counter() - started
    finally:
        store.dispose()
    return len(observations) / elapsed


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    options.add_argument("--rows", type=int, default=100_000)
    options.add_argument("--batch", type=int, default=5_000)
    options.add_argument("--runs", type=int, default=3)
    options.add_argument(
        "--keep", type=Path, help="write the workbook and database here instead of a temp dir"
    )
    options.add_argument("--no-ingest", action="store_true", help="parse figures only (end_to_end: null)")
    arguments = options.parse_args()

    with tempfile.TemporaryDirectory(prefix="excel-ingest-") as scratch:
        folder = arguments.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "availability.xlsx"
        started = time.perf_counter()
        write_workbook(path, availability_rows(arguments.rows))
        content = path.read_bytes()
        log(f"workbook: {arguments.rows:,} rows × {len(HEADER)} columns, {len(content) / 1e6:.1f} MB, "
            f"written in {time.perf_counter() - started:.1f} s")  # fmt: skip

        timings = []
        for run in range(arguments.runs):
            started = time.perf_counter()
            observations = parse(content)
            timings.append(time.perf_counter() - started)
            assert len(observations) == arguments.rows, len(observations)
            log(f"parse run {run + 1}: {timings[-1]:.2f} s")
            del observations
        parse_rate = arguments.rows / statistics.median(timings)

        started = time.perf_counter()
        baseline_rows = openpyxl_rows(path)
        openpyxl_rate = (baseline_rows - HEADER_ROW) / (time.perf_counter() - started)
        log(f"openpyxl read-only: {time.perf_counter() - started:.2f} s for {baseline_rows:,} rows")

        end_rate = None if arguments.no_ingest else end_to_end(content, folder / "bench.db", arguments.batch)
        if end_rate is not None:
            log(f"end to end: {arguments.rows / end_rate:.2f} s")

    print(
        json.dumps(
            {
                "rows": arguments.rows,
                "parse_rows_per_s": round(parse_rate),
                "end_to_end_rows_per_s": round(end_rate) if end_rate is not None else None,
                "openpyxl_rows_per_s": round(openpyxl_rate),
                "ratio": round(parse_rate / openpyxl_rate, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
