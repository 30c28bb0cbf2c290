"""The app as the worker runs it: `serve(store, config)` → a uvicorn server, over real HTTP."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from api_world import DISCHARGED, ingest_world
from fastapi import APIRouter
from sqlmodel import SQLModel

from api.app import bound_port, serve
from quaysync.config import parse_config


def test_serve_runs_the_configured_api_until_told_to_stop(store, tmp_path: Path) -> None:
    ingest_world(store)
    (tmp_path / "var" / "evidence").mkdir(parents=True)
    (tmp_path / "var" / "evidence" / "shot.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    document = {"data_dir": "var", "api": {"port": 0, "require_api_key": False}, "store": {"url": store.url}}
    config = parse_config(document, tmp_path)
    health = APIRouter()
    health.add_api_route("/health", lambda: {"status": "ok"})
    server = serve(store, config, extra_routers=[health])
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive()
        time.sleep(0.005)
    try:
        base_url = f"http://{config.api.host}:{bound_port(server)}"
        assert httpx.get(f"{base_url}/containers/{DISCHARGED}").json()["lifecycle"] == "DISCHARGED"
        assert httpx.get(f"{base_url}/health").json() == {"status": "ok"}
        assert httpx.get(f"{base_url}/evidence/shot.png").status_code == 200  # <data_dir>/evidence
    finally:
        server.should_exit = True
        thread.join(10)
    assert not thread.is_alive()


OURS = {"api_key", "event_subscription"}


def _ours(candidate, name, type_, reflected, compare_to) -> bool:  # type: ignore[no-untyped-def]
    """Only this room's tables (other rooms' tables have their own migrations and tests)."""
    table = name if type_ == "table" else getattr(getattr(candidate, "table", None), "name", None)
    return table in OURS


def test_the_migration_matches_the_tables(store) -> None:
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_object": _ours})
        assert store.current_revisions() == store.expected_revisions()
        assert compare_metadata(context, SQLModel.metadata) == []
        tables = set(connection.dialect.get_table_names(connection))
    assert tables >= OURS


def test_the_migration_matches_the_tables_on_postgresql(postgres_store) -> None:
    test_the_migration_matches_the_tables(postgres_store)


def test_routes_over_postgresql(postgres_store) -> None:
    """On PostgreSQL the store work runs in the thread pool (api.db); same answers."""
    from api_client import TestClient

    from api.app import create_app
    from api.auth import create_key
    from quaysync.config import ApiOptions

    ingest_world(postgres_store)
    with postgres_store.session() as session:
        token = create_key(session, "pg")
    headers = {"X-API-Key": token}
    with TestClient(create_app(postgres_store, ApiOptions(require_api_key=True))) as client:
        assert client.get(f"/containers/{DISCHARGED}").status_code == 401
        assert client.get(f"/containers/{DISCHARGED}", headers=headers).json()["lifecycle"] == "DISCHARGED"
        events = client.get("/v2/events", params={"equipmentReference": DISCHARGED}, headers=headers).json()
        assert [event["equipmentEventTypeCode"] for event in events if event["eventType"] == "EQUIPMENT"] == [
            "DISC"
        ]
        answer = client.post("/ask", json={"question": "柜子到哪了 MSKU1234565?"}, headers=headers).json()
        assert answer["text"].startswith("您的集装箱 MSKU1234565 已于 11月20日 14:30 卸船")
