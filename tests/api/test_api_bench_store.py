"""The latency bench's bulk-built store is one the API reads correctly (small size here)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from api.dcsa_query import events_page
from api.queries import container_events, container_status
from quaysync.dcsa import parse_filters
from store import open_store
from tests.conftest import REPO


def _bench():  # bench/ is not a package: load the script as a module
    spec = importlib.util.spec_from_file_location("api_latency_bench", REPO / "bench" / "api_latency.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bulk_built_store_reads_like_an_ingested_one(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/bench.db"
    numbers, token = _bench().build_store(url, 30, 600)
    assert len(numbers) == 30 and token.startswith("qsk_")
    store = open_store(url)
    try:
        with store.session() as session:
            status = container_status(session, numbers[0])
            assert status is not None and status["orders"] and status["bill_of_lading"]
            events = container_events(session, numbers[0])
            assert events is not None and len(events) == 20
            superseded = [event for event in events if not event["current"]]
            assert superseded and all(event["superseded_by"] for event in superseded)
            served, _ = events_page(session, parse_filters({"equipmentReference": numbers[0]}))
            # 20 rows: 4 superseded, AVPU and CUSR not served
            assert len(served) == 14
            seen: list[str] = []
            cursor = None
            while True:
                page, cursors = events_page(session, parse_filters({}), limit=37, cursor=cursor)
                seen += [event["eventID"] for event in page]
                cursor = cursors.next_cursor
                if cursor is None:
                    break
            assert len(seen) == len(set(seen)) == 30 * 14
    finally:
        store.dispose()
