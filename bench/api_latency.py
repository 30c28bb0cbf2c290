"""API latency under a fixed request rate: 50,000 containers, 1,000,000 events, SQLite.

1. Builds the store with bulk inserts straight into the tables (driver-level executemany in
   large batches) — NOT through the ingest path: this bench measures reads, and 1,000,000 events
   through normalize + merge would take minutes. Rows look like what ingest writes (current and
   superseded versions, holds, transport events, order links, B/Ls).
2. Serves the real app (`api.app.create_app`, API keys on) with uvicorn, one worker, in a
   subprocess.
3. From a SEPARATE load-generator process (plain asyncio HTTP/1.1 over 32 kept-alive
   connections), sends requests open-loop at a fixed rate (default 300/s) for 30 s per
   endpoint, after a short warm-up: `GET /containers/{n}` and
   `GET /v2/events?equipmentReference={n}`, n random.
   Latency is measured from each request's scheduled send time (no coordinated omission).

    .venv/bin/python bench/api_latency.py [--containers 50000] [--events 1000000] [--rate 300] [--seconds 30]

Last line of output: {"containers_by_number": {"rps": ..., "p50_ms": ..., "p99_ms": ..., "errors": 0},
"v2_events_by_equipment": {...}}. Targets on a 2-core machine: p99 < 25 ms at 300 req/s, no errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

EPOCH = datetime(2026, 10, 1, tzinfo=UTC)
TERMINALS = ("Sandbox Container Terminal", "LBCT", "TraPac LA", "Yusen Terminals", "Fenix Marine")
CARRIERS = (
    ("MAERSK", "MSKU", "MAEU"),
    ("COSCO", "CSNU", "COSU"),
    ("MSC", "MEDU", "MEDU"),
    ("CMA CGM", "CMAU", "CMDU"),
)
VESSELS = tuple(f"VESSEL {index}" for index in range(120))
# One container's life as events: (type, code, classifier, facet, hours after its start, superseded?)
LIFE = (
    ("TRANSPORT", "DEPA", "ACT", "", -400, False),
    ("EQUIPMENT", "LOAD", "ACT", "", -402, False),
    ("TRANSPORT", "ARRI", "EST", "", 0, True),
    ("TRANSPORT", "ARRI", "EST", "", 6, True),
    ("TRANSPORT", "ARRI", "EST", "", 10, False),
    ("TRANSPORT", "ARRI", "ACT", "", 12, False),
    ("EQUIPMENT", "DISC", "ACT", "", 20, True),
    ("EQUIPMENT", "DISC", "ACT", "", 21, False),
    ("SHIPMENT", "HOLD", "ACT", "customs", 20, False),
    ("SHIPMENT", "HOLD", "ACT", "freight", 20, False),
    ("SHIPMENT", "RELS", "ACT", "customs", 30, False),
    ("EQUIPMENT", "CUSR", "ACT", "", 30, False),
    ("SHIPMENT", "RELS", "ACT", "freight", 34, False),
    ("EQUIPMENT", "AVPU", "ACT", "", 35, False),
    ("EQUIPMENT", "PICK", "PLN", "", 44, True),
    ("EQUIPMENT", "PICK", "PLN", "", 46, False),
    ("EQUIPMENT", "GTOT", "ACT", "", 47, False),
    ("TRANSPORT", "DEPA", "EST", "", 60, False),
    ("TRANSPORT", "DEPA", "ACT", "", 62, False),
    ("EQUIPMENT", "GTIN", "ACT", "", 120, False),
)


def container_numbers(count: int, rng: random.Random) -> list[str]:
    from stdnum import iso6346

    numbers: set[str] = set()
    while len(numbers) < count:
        body = f"{rng.choice(CARRIERS)[1]}{rng.randrange(10**6):06d}"
        numbers.add(body + iso6346.calc_check_digit(body))
    return sorted(numbers)


def _naive(moment: datetime) -> str:
    """How the store's UTC columns hold a moment on SQLite (fixed-width naive UTC text, see store.types)."""
    return moment.replace(tzinfo=None).isoformat(" ", "microseconds")


def build_store(url: str, containers: int, events: int, seed: int = 5) -> tuple[list[str], str]:
    """Fill a fresh store with bulk inserts (not the ingest path); returns (numbers, an API token)."""
    from api.auth import create_key
    from store import open_store
    from store.tables import ContainerStatusRow, EventRow

    rng = random.Random(seed)
    store = open_store(url)
    numbers = container_numbers(containers, rng)
    per_container = max(1, events // containers)
    event_columns = [column.name for column in EventRow.__table__.columns]
    status_columns = [column.name for column in ContainerStatusRow.__table__.columns]
    details = {"": "{}", "customs": '{"facet": "customs"}', "freight": '{"facet": "freight"}'}
    raw = store.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.execute("PRAGMA cache_size=-262144")
        event_sql = (
            f"INSERT INTO event ({', '.join(event_columns)}) VALUES ({', '.join('?' * len(event_columns))})"
        )
        status_sql = (
            f"INSERT INTO container_status ({', '.join(status_columns)}) "
            f"VALUES ({', '.join('?' * len(status_columns))})"
        )
        link_sql = (
            "INSERT INTO order_link (order_ref, bill_of_lading, container_number, customer, source, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?)"
        )
        shipment_sql = (
            "INSERT INTO shipment (bill_of_lading, carrier, customer, vessel_name, voyage, port_of_loading, "
            "port_of_discharge, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        )
        event_rows: list[tuple] = []
        status_rows: list[tuple] = []
        link_rows: list[tuple] = []
        shipments: dict[str, tuple] = {}
        row_id = 0
        created = EPOCH
        step = timedelta(milliseconds=50)
        for index, number in enumerate(numbers):
            carrier = next(item for item in CARRIERS if item[1] == number[:4])
            start = EPOCH + timedelta(hours=rng.randrange(24 * 50))
            vessel, voyage = rng.choice(VESSELS), f"{rng.randrange(100):03d}E"
            terminal = rng.choice(TERMINALS)
            bill = f"{carrier[2]}{index // 2:010d}"
            first_id = row_id + 1
            # the row that supersedes a version: the next version of the same fact in LIFE
            current_of: dict[tuple, int] = {}
            for position in range(per_container - 1, -1, -1):
                _, code, classifier, facet, _, superseded = LIFE[position % len(LIFE)]
                key = (code, classifier, facet, position // len(LIFE))
                if not superseded:
                    current_of[key] = first_id + position
            for position in range(per_container):
                row_id += 1
                created += step
                event_type, code, classifier, facet, hours, superseded = LIFE[position % len(LIFE)]
                key = (code, classifier, facet, position // len(LIFE))
                moment = _naive(start + timedelta(hours=hours + position // len(LIFE) * 200))
                with_vessel = event_type == "TRANSPORT" or code in ("LOAD", "DISC")
                event_rows.append(
                    (
                        row_id,
                        f"6f1c3a52-58c4-4f47-8{row_id >> 48 & 0xFFF:03x}-{row_id & 0xFFFFFFFFFFFF:012x}",
                        f"{index:08x}{hash(key) & 0xFFFFFFFFFFFFFFFF:016x}{position // len(LIFE):08x}",
                        f"{row_id:032x}",
                        event_type,
                        code,
                        classifier,
                        moment,
                        "America/Los_Angeles",
                        1,
                        number,
                        None,
                        "USLGB",
                        terminal,
                        vessel if with_vessel else None,
                        voyage if with_vessel else None,
                        "EMPTY" if code == "GTIN" else "LADEN",
                        details[facet],
                        "portal:bench",
                        None,
                        moment,
                        current_of.get(key) if superseded else None,
                        _naive(created),
                    )
                )
            status = {
                "container_number": number,
                "lifecycle": "GATED_OUT",
                "lifecycle_rank": 4,
                "lifecycle_at": _naive(start + timedelta(hours=47)),
                "available": 0,
                "holds": json.dumps({"customs": "released", "freight": "released"}),
                "last_free_day": (start + timedelta(days=4)).date().isoformat(),
                "line_last_free_day": None,
                "fees": json.dumps({"demurrage": "0.00"}),
                "yard_location": f"B{rng.randrange(40):02d}-{rng.randrange(9)}",
                "appointment_at": _naive(start + timedelta(hours=46)),
                "bill_of_lading": bill,
                "carrier": carrier[0],
                "size_type": "45G1",
                "vessel_name": vessel,
                "voyage": voyage,
                "vessel_eta": _naive(start + timedelta(hours=10)),
                "vessel_ata": _naive(start + timedelta(hours=12)),
                "terminal": terminal,
                "time_zone": "America/Los_Angeles",
                "traffic_light": rng.choice((None, "green", "amber", "red")),
                "light_rule": None,
                "light_reason": None,
                "freshness": json.dumps({"portal:bench": [start.isoformat(), "0123456789ab"]}),
                "field_sources": "{}",
                "disagreements": "{}",
                "not_found": "{}",
                "tracking": "active",
                "first_seen_at": _naive(start),
                "last_observed_at": _naive(start + timedelta(hours=47)),
                "updated_at": _naive(start + timedelta(hours=47)),
            }
            status_rows.append(tuple(status[name] for name in status_columns))
            link_rows.append(
                (f"PO-{index // 3:08d}", bill, number, "Acme Imports", "import:bench", _naive(start))
            )
            shipments[bill] = (
                bill,
                carrier[0],
                "Acme Imports",
                vessel,
                voyage,
                "CNSHA",
                "USLGB",
                _naive(start),
            )
            if len(event_rows) >= 100_000:
                cursor.executemany(event_sql, event_rows)
                event_rows.clear()
        cursor.executemany(event_sql, event_rows)
        cursor.executemany(status_sql, status_rows)
        cursor.executemany(link_sql, link_rows)
        cursor.executemany(shipment_sql, list(shipments.values()))
        raw.commit()
        cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
    with store.session() as session:
        token = create_key(session, "bench")
    store.dispose()
    return numbers, token


def reuse_store(url: str) -> tuple[list[str], str]:
    """(container numbers, a new API token) of a store built before."""
    from sqlalchemy import select

    from api.auth import create_key
    from store import ContainerStatusRow, open_store

    store = open_store(url)
    with store.session() as session:
        numbers = list(session.execute(select(ContainerStatusRow.container_number)).scalars())
        token = create_key(session, f"bench-{random.randrange(10**9)}")
    store.dispose()
    return numbers, token


def serve(url: str, port: int) -> None:
    """The server process: the real app over the store, uvicorn, one worker."""
    from api.app import build_server, create_app
    from quaysync.config import ApiOptions
    from store import open_store

    options = ApiOptions(port=port, require_api_key=True)
    server = build_server(create_app(open_store(url), options), options)
    server.run()


async def _request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, path: str, token: str
) -> int:
    """One GET on a kept-alive HTTP/1.1 connection; the status code (the body is read and dropped)."""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nX-API-Key: {token}\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status


async def _load(
    base_url: str, token: str, paths: list[str], rate: float, seconds: float, warmup: float
) -> dict:
    """Open-loop load: requests are due at a fixed rate; latency counts from when each was due.

    A plain asyncio HTTP/1.1 client over kept-alive connections (a general-purpose client's own
    CPU cost would be measured along with the server's at this rate on two cores).
    """
    host_port = base_url.split("://", 1)[1]
    host, port = host_port.split(":")
    due: asyncio.Queue[tuple[str, float, bool] | None] = asyncio.Queue()
    latencies: list[float] = []
    errors = 0
    connections = 32

    async def worker() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, int(port))
        while (item := await due.get()) is not None:
            path, scheduled, counted = item
            try:
                status = await _request(reader, writer, host_port, path, token)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                status = 0
                writer.close()
                reader, writer = await asyncio.open_connection(host, int(port))
            if counted:
                latencies.append(time.perf_counter() - scheduled)
                errors += status != 200
        writer.close()

    workers = [asyncio.create_task(worker()) for _ in range(connections)]
    total = int((warmup + seconds) * rate)
    start = time.perf_counter() + 0.5
    for index in range(total):
        scheduled = start + index / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        due.put_nowait((paths[index % len(paths)], scheduled, index >= warmup * rate))
    for _ in workers:
        due.put_nowait(None)
    await asyncio.gather(*workers)
    elapsed = time.perf_counter() - (start + warmup)
    latencies.sort()

    def percentile(fraction: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(fraction * len(latencies)))] * 1000, 2)

    return {
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": percentile(0.50),
        "p99_ms": percentile(0.99),
        "errors": errors,
    }


def load(base_url: str, token: str, paths_file: str, rate: float, seconds: float, warmup: float) -> None:
    """The load-generator process: prints one JSON line with its figures."""
    paths = json.loads(Path(paths_file).read_text())
    print(json.dumps(asyncio.run(_load(base_url, token, paths, rate, seconds, warmup))))


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(base_url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the API server exited")
        try:
            if httpx.get(f"{base_url}/openapi.json", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the API server did not start")


def main() -> None:
    import psutil

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--containers", type=int, default=50_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--rate", type=float, default=300.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument(
        "--store", help="reuse a store this bench built before (sqlite:///PATH); else a fresh one"
    )
    parser.add_argument("--serve", nargs=2, metavar=("URL", "PORT"), help=argparse.SUPPRESS)
    parser.add_argument("--load", nargs=3, metavar=("BASE_URL", "TOKEN", "PATHS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]))
        return
    if args.load:
        load(*args.load, args.rate, args.seconds, args.warmup)
        return

    with tempfile.TemporaryDirectory(prefix="quaysync-api-bench-") as folder:
        url = args.store or f"sqlite:///{folder}/quaysync.db"
        began = time.perf_counter()
        if args.store:
            numbers, token = reuse_store(url)
            print(f"store: reusing {url} ({len(numbers)} containers)")
        else:
            numbers, token = build_store(url, args.containers, args.events)
            seconds = time.perf_counter() - began
            print(f"store: {len(numbers)} containers, {args.events} events in {seconds:.1f} s (bulk inserts)")
        port = _free_port()
        base_url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", url, str(port)],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        results = {}
        try:
            _wait_ready(base_url, server)
            server_process = psutil.Process(server.pid)
            rng = random.Random(9)
            sample = [rng.choice(numbers) for _ in range(5000)]
            print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} before the load")
            for name, template in (
                ("containers_by_number", "/containers/{}"),
                ("v2_events_by_equipment", "/v2/events?equipmentReference={}"),
            ):
                cpu_before = sum(server_process.cpu_times()[:2])
                paths_file = Path(folder) / f"{name}.json"
                paths_file.write_text(json.dumps([template.format(number) for number in sample]))
                output = subprocess.run(
                    [sys.executable, __file__, "--rate", str(args.rate), "--seconds", str(args.seconds),
                     "--warmup", str(args.warmup), "--load", base_url, token, str(paths_file)],
                    cwd=REPO, capture_output=True, text=True, check=True,
                ).stdout  # fmt: skip
                results[name] = json.loads(output.strip().splitlines()[-1])
                # The server's own CPU per request: what the rate costs, whatever else runs here.
                sent = (args.warmup + args.seconds) * args.rate
                cpu_ms = (sum(server_process.cpu_times()[:2]) - cpu_before) / sent * 1000
                print(
                    f"{name}: {json.dumps(results[name])}; server CPU {cpu_ms:.2f} ms/request; "
                    f"load average {os.getloadavg()[0]:.1f}"
                )
        finally:
            server.terminate()
            server.wait(10)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
