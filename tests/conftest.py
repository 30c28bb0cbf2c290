"""Fixtures every test folder shares: paths, the browser pytest-playwright launches, PostgreSQL."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from quaysync.browser import find_chromium

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
