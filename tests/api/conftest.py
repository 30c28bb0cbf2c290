"""Fixtures for the API tests: stores with the test world, apps, clients, PostgreSQL stores."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from api_client import TestClient
from api_world import add_operations, ingest_world

from api.app import create_app
from api.auth import create_key
from quaysync.config import ApiOptions
from store import Store, open_store
from tests.conftest import POSTGRES_URL


@pytest.fixture
def make_store(tmp_path: Path) -> Iterator[Callable[[], Store]]:
    opened: list[Store] = []

    def make() -> Store:
        store = open_store(f"sqlite:///{tmp_path}/quaysync-{len(opened)}.db")
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.dispose()


@pytest.fixture
def store(make_store: Callable[[], Store]) -> Store:
    return make_store()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, Path, dict[str, int]]]:
    """A store holding the test world, read by many tests (do not write to it)."""
    folder = tmp_path_factory.mktemp("world")
    store = open_store(f"sqlite:///{folder}/quaysync.db")
    ingest_world(store)
    ids = add_operations(store, folder / "evidence")
    yield store, folder / "evidence", ids
    store.dispose()


@pytest.fixture(scope="module")
def world_store(world: tuple[Store, Path, dict[str, int]]) -> Store:
    return world[0]


@pytest.fixture(scope="module")
def client(world: tuple[Store, Path, dict[str, int]]) -> Iterator[TestClient]:
    """The API over the world, without API keys."""
    store, evidence, _ = world
    app = create_app(store, ApiOptions(require_api_key=False), evidence_dir=evidence)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def keyed(make_store: Callable[[], Store]) -> Iterator[tuple[TestClient, str]]:
    """The API with API keys required over a fresh world, and a valid token."""
    store = make_store()
    ingest_world(store)
    with store.session() as session:
        token = create_key(session, "erp")
    app = create_app(store, ApiOptions(require_api_key=True))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client, token


@pytest.fixture
def postgres_store() -> Iterator[Store]:
    """A migrated store in a private PostgreSQL schema, dropped afterwards."""
    if POSTGRES_URL is None:
        pytest.skip("QUAYSYNC_TEST_POSTGRES_URL is not set: no PostgreSQL to test against")
    schema = f"api_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    store = open_store(f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}")
    try:
        yield store
    finally:
        store.dispose()
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
