"""Fixtures every test folder shares: paths, the browser pytest-playwright launches, PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from quaysync.browser import find_chromium

if TYPE_CHECKING:
    from store import Store

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
REAL_PAGES = SHARED / "real-portal-pages"
SPECS = SHARED / "specs"
POSTGRES_URL = os.environ.get("QUAYSYNC_TEST_POSTGRES_URL")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """Launch Playwright's own Chromium where installed, else the system one (see quaysync.browser)."""
    choice = find_chromium()
    if choice is None:
        pytest.fail("no Chromium: run scripts/setup")
    return {**browser_type_launch_args, **choice.launch_options(headless=True)}


def _postgres_schema_url(schema: str) -> str:
    assert POSTGRES_URL is not None
    separator = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A private, empty schema on the PostgreSQL named by QUAYSYNC_TEST_POSTGRES_URL."""
    if POSTGRES_URL is None:
        pytest.skip("QUAYSYNC_TEST_POSTGRES_URL is not set: no PostgreSQL to test against (.ci/run sets it)")
    from sqlalchemy import create_engine, text

    from store import normalize_url

    schema = f"qs_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalize_url(POSTGRES_URL))
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _postgres_schema_url(schema)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'quaysync.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def any_store(store_url: str) -> Iterator[Store]:
    """A migrated store on each engine (see store_url)."""
    from store import open_store

    opened = open_store(store_url)
    try:
        yield opened
    finally:
        opened.dispose()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    from store import open_store

    opened = open_store(f"sqlite:///{tmp_path / 'quaysync.db'}")
    try:
        yield opened
    finally:
        opened.dispose()
