"""Workbook export: 50,000 containers and 500,000 events into the analysts' .xlsx.

Builds a fresh SQLite store with bulk SQLAlchemy Core inserts (executemany of plain dicts, no ORM
objects: seconds, not minutes), then, each in its own subprocess so its peak memory is its own
(`ru_maxrss`):

  (a) `sync.export.run_export` writing the full workbook: Containers, Events, Exceptions,
      Sources and Hotspots (where api.hotspots exists), replaced atomically;
  (b) the baseline: openpyxl's default (non-write-only) Workbook writing the same Containers
      sheet — the same rows from the same query, the same header, number formats, light fills,
      frozen header and autofilter — and saving it.

    .venv/bin/python bench/export.py [--containers 50000] [--events-per-container 10]

Last line of output: {"containers": 50000, "events": 500000, "seconds": ..., "peak_rss_mb": ...,
"baseline_seconds": ..., "baseline_peak_rss_mb": ..., "ratio": baseline_seconds / seconds}
Targets: ratio >= 3, peak_rss_mb < 500. The machine may be shared: compare the ratio, which both
sides of one run share, rather than the seconds.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import insert  # noqa: E402
from stdnum import iso6346  # noqa: E402

from store import (  # noqa: E402
    AlertRow,
    ContainerStatusRow,
    EventRow,
    OrderLinkRow,
    RunRow,
    ShipmentRow,
    open_store,
)

EPOCH = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
ZONES = ("America/Los_Angeles", "Asia/Shanghai", "Europe/Rotterdam", "America/New_York")
TERMINALS = ("LBCT", "TTI", "YICT", "SCT", "APMT", "ECT")
CARRIERS = ("MAERSK", "MSC", "COSCO", "CMA CGM", "EVERGREEN", "ONE")
CODES = (
    ("LOAD", "ACT", "EQUIPMENT"),
    ("DEPA", "ACT", "TRANSPORT"),
    ("ARRI", "EST", "TRANSPORT"),
    ("ARRI", "ACT", "TRANSPORT"),
    ("DISC", "ACT", "EQUIPMENT"),
    ("HOLD", "ACT", "SHIPMENT"),
    ("CUSR", "ACT", "EQUIPMENT"),
    ("AVPU", "ACT", "EQUIPMENT"),
    ("PICK", "PLN", "EQUIPMENT"),
    ("GTOT", "ACT", "EQUIPMENT"),
)
BATCH = 10_000


def container_numbers(count: int, rng: random.Random) -> list[str]:
    numbers: set[str] = set()
    while len(numbers) < count:
        body = f"{rng.choice(('MSKU', 'CSNU', 'TGHU', 'MEDU', 'OOLU'))}{rng.randrange(10**6):06d}"
        numbers.add(body + iso6346.calc_check_digit(body))
    return sorted(numbers)


def _insert(session: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        session.execute(insert(table), rows[start : start + BATCH])


def build_store(url: str, containers: int, per_container: int, seed: int = 5) -> dict[str, int]:
    """A store of `containers` containers with `per_container` events each (bulk Core inserts)."""
    rng = random.Random(seed)
    store = open_store(url)
    now = datetime.now(UTC)
    customers = [f"Customer {index:03d}" for index in range(200)]
    status_rows: list[dict[str, Any]] = []
    link_rows: list[dict[str, Any]] = []
    shipment_rows: dict[str, dict[str, Any]] = {}
    alert_rows: list[dict[str, Any]] = []
    counts = {"containers": 0, "events": 0}
    with store.session() as session:
        for index, number in enumerate(container_numbers(containers, rng)):
            zone = ZONES[index % len(ZONES)]
            bill = f"{CARRIERS[index % len(CARRIERS)][:4].replace(' ', 'X')}{700000000 + index // 3}"
            eta = EPOCH + timedelta(hours=rng.randrange(0, 400))
            light = rng.choices(("green", "amber", "red"), (80, 15, 5))[0]
            rule = None if light == "green" else rng.choice(("lfd_within", "hold_longer", "eta_slip"))
            holds = {"customs": rng.choice(("hold", "released", "released")), "freight": "released"}
            status_rows.append(
                {
                    "container_number": number,
                    "lifecycle": rng.choice(
                        ("IN_TRANSIT", "ARRIVED", "DISCHARGED", "DISCHARGED", "GATED_OUT")
                    ),
                    "lifecycle_rank": 3,
                    "lifecycle_at": eta,
                    "available": rng.choice((True, False, None)),
                    "holds": holds,
                    "last_free_day": (eta + timedelta(days=4)).date(),
                    "line_last_free_day": None,
                    "fees": {"demurrage": f"{rng.randrange(0, 900)}.00"} if rng.random() < 0.3 else {},
                    "yard_location": f"B{rng.randrange(40):02d}-{rng.randrange(9)}",
                    "appointment_at": eta + timedelta(days=2) if rng.random() < 0.4 else None,
                    "bill_of_lading": bill,
                    "carrier": CARRIERS[index % len(CARRIERS)],
                    "size_type": "40HC",
                    "vessel_name": f"VESSEL {index % 120}",
                    "voyage": f"{100 + index % 50}E",
                    "vessel_eta": eta,
                    "vessel_ata": eta + timedelta(hours=3) if rng.random() < 0.7 else None,
                    "terminal": TERMINALS[index % len(TERMINALS)],
                    "time_zone": zone,
                    "traffic_light": light,
                    "light_rule": rule,
                    "light_reason": None if light == "green" else "last free day ends in 20 h",
                    "freshness": {"portal:sandbox": [now.isoformat(), "abcdef123456"]},
                    "field_sources": {},
                    "disagreements": {},
                    "not_found": {},
                    "tracking": "active",
                    "first_seen_at": now,
                    "last_observed_at": now,
                    "updated_at": now,
                }
            )
            customer = customers[index % len(customers)]
            link_rows.append(
                {
                    "order_ref": f"PO-{index // 2:06d}",
                    "bill_of_lading": bill,
                    "container_number": number,
                    "customer": customer,
                    "source": "import:erp",
                    "created_at": now,
                }
            )
            shipment_rows.setdefault(
                bill,
                {
                    "bill_of_lading": bill,
                    "carrier": CARRIERS[index % len(CARRIERS)],
                    "customer": customer,
                    "vessel_name": None,
                    "voyage": None,
                    "port_of_loading": "CNSHA",
                    "port_of_discharge": "USLGB",
                    "updated_at": now,
                },
            )
            if rule is not None:
                alert_rows.append(
                    {
                        "kind": "rule",
                        "rule": rule,
                        "subject": number,
                        "dedupe_key": f"{rule}:{number}",
                        "light": light,
                        "reason": "last free day ends in 20 h",
                        "state": "open",
                        "context": {},
                        "created_at": now,
                        "resolved_at": None,
                    }
                )
            counts["containers"] += 1
        _insert(session, ContainerStatusRow.__table__, status_rows)
        _insert(session, OrderLinkRow.__table__, link_rows)
        _insert(session, ShipmentRow.__table__, list(shipment_rows.values()))
        _insert(session, AlertRow.__table__, alert_rows)
        runs = [
            {
                "source": f"portal:terminal-{index}",
                "kind": "scrape",
                "trigger": "schedule",
                "started_at": now - timedelta(minutes=5),
                "ended_at": now,
                "outcome": rng.choice(("ok", "ok", "partial", "blocked")),
                "counts": {"containers": 500},
                "errors": [],
                "evidence": [],
            }
            for index in range(20)
        ]
        _insert(session, RunRow.__table__, runs)
    # Events in batches, generated as they go in: the builder's memory stays small too.
    with store.session() as session:
        batch: list[dict[str, Any]] = []
        for row in status_rows:
            number, eta, zone = row["container_number"], row["vessel_eta"], row["time_zone"]
            for step in range(per_container):
                code, classifier, event_type = CODES[step % len(CODES)]
                batch.append(
                    {
                        "event_id": str(uuid.uuid4()),
                        "natural_key": uuid.uuid4().hex,
                        "version_hash": "v1",
                        "event_type": event_type,
                        "event_code": code,
                        "classifier": classifier,
                        "event_at": eta + timedelta(hours=step * 7),
                        "time_zone": zone,
                        "timed": True,
                        "container_number": number,
                        "bill_of_lading": row["bill_of_lading"],
                        "location_code": "USLGB",
                        "facility": row["terminal"],
                        "vessel_name": row["vessel_name"] if event_type == "TRANSPORT" else None,
                        "voyage": row["voyage"] if event_type == "TRANSPORT" else None,
                        "empty_indicator": "LADEN",
                        "details": {"facet": "customs"} if code == "HOLD" else {},
                        "source": "portal:sandbox",
                        "observation_id": None,
                        "observed_at": now,
                        "superseded_by": None,
                        "created_at": now,
                    }
                )
                if len(batch) >= BATCH:
                    session.execute(insert(EventRow.__table__), batch)
                    counts["events"] += len(batch)
                    batch.clear()
        if batch:
            session.execute(insert(EventRow.__table__), batch)
            counts["events"] += len(batch)
    store.dispose()
    return counts


def _peak_rss_mb() -> float:
    # Linux reports ru_maxrss in KiB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_seconds() -> float:
    """This process's CPU time, all threads (the export compresses in a second thread)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_export_once(url: str, target: Path) -> dict[str, Any]:
    from quaysync.config import Config, ExportOptions
    from sync.export import run_export

    store = open_store(url, migrate=False)
    export = ExportOptions(name="bench", path=str(target))
    started, cpu = time.perf_counter(), _cpu_seconds()
    result = run_export(Config(), export, store, trigger="manual", path=target)
    seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
    store.dispose()
    if result.error:
        raise SystemExit(result.error)
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "peak_rss_mb": _peak_rss_mb(),
        "bytes": target.stat().st_size,
        **result.counts(),
        "notes": [note for workbook in result.workbooks for note in workbook.notes],
    }


def run_baseline_once(url: str, target: Path) -> dict[str, Any]:
    """openpyxl's default Workbook writing the same Containers sheet (same rows, same styling)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    from sync.export import rows as queries
    from sync.export.clock import Clock
    from sync.export.sheets import ContainerRows, container_columns
    from sync.export.xlsx import DATE_FORMAT, DATETIME_FORMAT, LIGHT_COLOURS, MONEY_FORMAT

    store = open_store(url, migrate=False)
    started, cpu = time.perf_counter(), _cpu_seconds()
    clock = Clock(datetime.now(UTC), None)
    columns = container_columns(clock)
    formats = {"date": DATE_FORMAT, "datetime": DATETIME_FORMAT, "money": MONEY_FORMAT}
    fills = {
        light: PatternFill("solid", fgColor=background) for light, (background, _) in LIGHT_COLOURS.items()
    }
    fonts = {light: Font(color=foreground) for light, (_, foreground) in LIGHT_COLOURS.items()}
    book = Workbook()
    sheet = book.active
    sheet.title = "Containers"
    sheet.append([column.header for column in columns])
    header_font, header_fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    for cell in sheet[1]:
        cell.font, cell.fill, cell.alignment = header_font, header_fill, Alignment(wrap_text=True)
    styled = [(index, column.kind) for index, column in enumerate(columns) if column.kind != "text"]
    rows = 0
    with store.session() as session:
        to_values = ContainerRows(queries.load_links(session), clock).values
        for row in queries.container_rows(session):
            values = to_values(row)
            sheet.append(values)
            rows += 1
            for index, kind in styled:
                if values[index] is None:
                    continue
                cell = sheet.cell(row=rows + 1, column=index + 1)  # a dict look-up (ws[n] scans every cell)
                if kind in formats:
                    cell.number_format = formats[kind]
                elif kind == "light" and values[index] in fills:
                    cell.fill, cell.font = fills[values[index]], fonts[values[index]]
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{rows + 1}"
    book.save(target)
    seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
    store.dispose()
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "peak_rss_mb": _peak_rss_mb(),
        "containers": rows,
        "bytes": target.stat().st_size,
    }


def _child(mode: str, url: str, target: Path) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--url", url, "--target", str(target)],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{completed.stderr[-4000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--containers", type=int, default=50_000)
    parser.add_argument("--events-per-container", type=int, default=10)
    parser.add_argument(
        "--repeat", type=int, default=2, help="runs of each side, alternating; the fastest of each counts"
    )
    parser.add_argument("--child", choices=("export", "baseline"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--target", type=Path, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        runner = run_export_once if arguments.child == "export" else run_baseline_once
        print(json.dumps(runner(arguments.url, arguments.target)))
        return

    with tempfile.TemporaryDirectory(prefix="quaysync-bench-export-") as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        started = time.perf_counter()
        built = build_store(url, arguments.containers, arguments.events_per_container)
        build_seconds = time.perf_counter() - started
        print(
            f"store built with bulk Core inserts: {built['containers']} containers, "
            f"{built['events']} events in {build_seconds:.1f} s",
            flush=True,
        )
        exports, baselines = [], []
        # Alternating runs, each in a fresh process: a shared machine's load hits both sides alike.
        for attempt in range(max(1, arguments.repeat)):
            exports.append(_child("export", url, Path(folder) / "export.xlsx"))
            print(f"run_export (full workbook) #{attempt + 1}: {json.dumps(exports[-1])}", flush=True)
            baselines.append(_child("baseline", url, Path(folder) / "baseline.xlsx"))
            print(
                f"baseline (openpyxl default Workbook) #{attempt + 1}: {json.dumps(baselines[-1])}",
                flush=True,
            )
    export = min(exports, key=lambda run: run["seconds"])
    baseline = min(baselines, key=lambda run: run["seconds"])
    cpu = min(run["cpu_seconds"] for run in exports)
    baseline_cpu = min(run["cpu_seconds"] for run in baselines)
    print(
        json.dumps(
            {
                "containers": export["containers"],
                "events": export["events"],
                "seconds": round(export["seconds"], 2),
                "peak_rss_mb": round(max(run["peak_rss_mb"] for run in exports), 1),
                "baseline_seconds": round(baseline["seconds"], 2),
                "baseline_peak_rss_mb": round(max(run["peak_rss_mb"] for run in baselines), 1),
                "ratio": round(baseline["seconds"] / export["seconds"], 2),
                "cpu_seconds": round(cpu, 2),
                "baseline_cpu_seconds": round(baseline_cpu, 2),
                "cpu_ratio": round(baseline_cpu / cpu, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
