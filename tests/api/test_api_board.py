"""The status board in real Chromium: key → cookie, containers with lights and countdowns, filters,
search, source health with failure evidence, and scraped markup shown as text, never run."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from api_client import served
from api_world import (
    DISCHARGED,
    GATED_OUT,
    IN_TRANSIT,
    NOT_FOUND,
    SCRIPTED,
    XSS_TERMINAL,
    XSS_YARD,
    add_operations,
    ingest_world,
)
from playwright.sync_api import Page, expect
from sqlalchemy import update

from api.app import create_app
from api.auth import BOARD_COOKIE, create_key
from quaysync.config import ApiOptions
from store import ContainerStatusRow, open_store

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(base URL, token) of the API with keys required, over the world plus runs and evidence."""
    folder = tmp_path_factory.mktemp("board")
    store = open_store(f"sqlite:///{folder}/quaysync.db")
    ingest_world(store)
    add_operations(store, folder / "evidence")
    (folder / "secret.txt").write_text("outside the evidence folder")
    with store.session() as session:
        token = create_key(session, "ops-board")
        # Lights are the rules' to set (another room); set two here to see them on the board.
        session.execute(
            update(ContainerStatusRow)
            .where(ContainerStatusRow.container_number == SCRIPTED)
            .values(traffic_light="red", light_rule="lfd_within", light_reason="last free day today")
        )
        session.execute(
            update(ContainerStatusRow)
            .where(ContainerStatusRow.container_number == DISCHARGED)
            .values(traffic_light="green", light_rule="available", light_reason="ready to pick up")
        )
    app = create_app(store, ApiOptions(require_api_key=True), evidence_dir=folder / "evidence")
    with served(app) as base_url:
        yield base_url, token
    store.dispose()


def _open(page: Page, base_url: str, token: str, query: str = "") -> None:
    response = page.goto(f"{base_url}/board?key={token}{('&' + query) if query else ''}")
    assert response is not None and response.ok
    assert "key=" not in page.url  # the token left the address bar


def _rows(page: Page) -> list[str]:
    return page.locator("#containers tbody tr[data-container]").evaluate_all(
        "rows => rows.filter(row => !row.hidden).map(row => row.dataset.container)"
    )


def test_the_key_is_asked_for_then_kept_in_an_httponly_cookie(page: Page, board: tuple[str, str]) -> None:
    base_url, token = board
    response = page.goto(f"{base_url}/board")
    assert response is not None and response.status == 401
    expect(page.locator("h1")).to_have_text("quaysync status board")
    page.fill("#key", "qsk_not_a_key")
    page.click("button[type=submit]")
    expect(page.locator("body")).to_contain_text("unknown or revoked")
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    page.fill("#key", token)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/board")
    assert urls and not any(token in url for url in urls)  # the form posts it: never in a URL
    expect(page.locator("h1")).to_have_text("Status board")
    (cookie,) = [cookie for cookie in page.context.cookies() if cookie["name"] == BOARD_COOKIE]
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
    assert page.evaluate("document.cookie") == ""  # scripts cannot read it
    page.reload()
    expect(page.locator("h1")).to_have_text("Status board")


def test_active_containers_with_lights_holds_and_countdown(page: Page, board: tuple[str, str]) -> None:
    base_url, token = board
    _open(page, base_url, token)
    rows = _rows(page)
    # red first, then by last free day; the gated-out box is still tracked (not final)
    assert rows[0] == SCRIPTED
    assert set(rows) == {SCRIPTED, DISCHARGED, IN_TRANSIT, NOT_FOUND, GATED_OUT}
    scripted = page.locator(f"tr[data-container={SCRIPTED}]")
    expect(scripted.locator(".light")).to_have_class("light light-red")
    expect(scripted).to_contain_text("freight")
    expect(scripted).to_contain_text("last free day today")
    today = datetime.now(UTC).astimezone(ZoneInfo("America/Los_Angeles")).date()
    left = (datetime(2026, 11, 25).date() - today).days
    discharged = page.locator(f"tr[data-container={DISCHARGED}]")
    expected = f"{left} d left" if left >= 0 else f"{-left} d overdue"
    expect(discharged).to_contain_text(expected)
    expect(discharged).to_contain_text("portal:sandbox")
    expect(page.locator(f"tr[data-container={IN_TRANSIT}]")).to_contain_text("customs")


def test_scraped_markup_is_shown_as_text_and_never_runs(page: Page, board: tuple[str, str]) -> None:
    base_url, token = board
    _open(page, base_url, token)
    page.wait_for_load_state("load")  # an injected <img onerror> would have fired by now
    assert page.evaluate("[window.__xss, window.__xss2]") == [None, None]
    scripted = page.locator(f"tr[data-container={SCRIPTED}]")
    expect(scripted.locator("td.yard")).to_have_text(XSS_YARD)
    expect(scripted.locator("td.terminal")).to_have_text(XSS_TERMINAL)
    option = page.locator("#filter-terminal option", has_text="onerror")
    expect(option).to_have_count(1)
    assert page.locator("#containers script, #containers img").count() == 0


def test_filters_and_search(page: Page, board: tuple[str, str]) -> None:
    base_url, token = board
    _open(page, base_url, token)
    page.select_option("#filter-lifecycle", "IN_TRANSIT")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**lifecycle=IN_TRANSIT**")
    assert _rows(page) == [IN_TRANSIT]
    page.goto(f"{base_url}/board?light=red")
    assert _rows(page) == [SCRIPTED]
    page.goto(f"{base_url}/board")
    page.fill("#q", "tghu")  # live search (board.js) over the rows on the page
    expect(page.locator("#shown")).to_have_text("1")
    assert _rows(page) == [GATED_OUT]
    page.fill("#q", "")
    expect(page.locator("#shown")).to_have_text("5")


def test_sources_health_and_failure_evidence(page: Page, board: tuple[str, str]) -> None:
    base_url, token = board
    _open(page, base_url, token)
    mail = page.locator("#sources tr[data-source='mail:carrier-inbox']")
    expect(mail.locator("td").nth(1)).to_have_text("failing")
    expect(mail).to_contain_text("IMAP connection reset")
    expect(mail).to_contain_text("missing.zip")  # listed, not linked: it is not on disk
    expect(mail.locator("a")).to_have_count(2)
    expect(page.locator("#sources tr[data-source='portal:sandbox'] td").nth(1)).to_have_text("ok")
    with page.expect_navigation():
        mail.locator("a", has_text="poll-failed.html").click()
    assert page.url.endswith("/evidence/mail/poll-failed.html")
    expect(page.locator("body")).to_contain_text("captured")
    assert page.evaluate("window.__evidence_ran === undefined")  # served sandboxed: its script did not run
    screenshot = page.request.get(f"{base_url}/evidence/mail/poll-failed.png")
    assert screenshot.ok and screenshot.headers["content-type"] == "image/png"


def test_evidence_never_leaves_its_folder(board: tuple[str, str]) -> None:
    base_url, token = board
    with httpx.Client(base_url=base_url, headers={"X-API-Key": token}) as client:
        assert client.get("/evidence/mail/poll-failed.png").status_code == 200
        for path in (
            "/evidence/../secret.txt",
            "/evidence/%2e%2e/secret.txt",
            "/evidence/mail/../../secret.txt",
            "/evidence/..%2fsecret.txt",
            "/evidence//etc/passwd",
            "/evidence/mail",
        ):
            response = client.get(path)
            assert response.status_code == 404, path
            assert "outside the evidence folder" not in response.text
        assert httpx.get(f"{base_url}/evidence/mail/poll-failed.png").status_code == 401


def test_board_without_a_browser_answers_a_problem(board: tuple[str, str]) -> None:
    base_url, _ = board
    response = httpx.get(f"{base_url}/board", headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert Path(__file__).name.startswith("test_api_board")
