"""The export fetched through the context's HTTP client (`Tab.post_form`), and the lean browser flags.

Every answer the portal may give to the export post instead of the workbook must raise what a
navigation would have raised: a CAPTCHA, maintenance, an expired session, the login page.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from bot_helpers import PASSWORD, Scrape, Setup, numbers_of, options

from bots import EngineThread
from bots.families.base import Capture
from bots.families.sandbox import SandboxBot
from bots.tab import Tab, attachment_filename
from quaysync.browser import LEAN_DISABLED_FEATURES
from quaysync.errors import CaptchaRequired, MaintenanceWindow, SessionExpired
from sandbox.portal import RunningPortal

pytestmark = pytest.mark.browser

Between = Callable[[Tab], Awaitable[None]]


async def _nothing(_tab: Tab) -> None:
    return None


async def _export_after_search(
    engine: EngineThread, setup: Setup, numbers: list[str], between: Callable[[Tab], Any], *,
    language: str = "en",
) -> tuple[Capture, Tab, list[object]]:  # fmt: skip
    """Sign in, search `numbers` (results page shown), run `between`, then fetch the export."""
    source = setup.portal_with(language=language)
    bot = SandboxBot(source, "pages")  # "pages": the search alone, the export is called here
    context = await engine.engine.pool.new_context(accept_downloads=True)
    downloads: list[object] = []
    try:
        page = await context.new_page()
        page.on("download", lambda download: downloads.append(download))
        tab = Tab(page, timeout_seconds=8)
        await bot.login(tab, "ops", PASSWORD)
        await bot.search(tab, numbers)
        await between(tab)
        capture = await bot.fetch_export(tab)
        return capture, tab, downloads
    finally:
        await context.close()


def test_the_export_is_posted_without_a_download_and_counts_as_a_load(
    portal: RunningPortal, setup: Setup, engine: EngineThread
) -> None:
    asked = numbers_of(portal, 7, start=3)
    pages: list[int] = []

    async def note(tab: Tab) -> None:
        pages.append(tab.pages)

    capture, tab, downloads = engine.call(_export_after_search(engine, setup, asked, note))
    assert capture.page == "export" and capture.filename and capture.filename.endswith(".xlsx")
    assert capture.content[:2] == b"PK"  # the workbook's bytes as sent
    assert tab.pages == pages[0] + 1 and tab.last is not None and tab.last.filename == capture.filename
    assert downloads == [], "the browser downloaded: the export went through a navigation"
    assert portal.counters()["exports"] == 1


def test_the_chinese_export_is_posted_from_the_gbk_page(
    portal: RunningPortal, setup: Setup, engine: EngineThread
) -> None:
    capture, _tab, _downloads = engine.call(
        _export_after_search(engine, setup, numbers_of(portal, 3), _nothing, language="zh")
    )
    assert capture.filename and portal.counters()["exports"] == 1


@pytest.mark.parametrize(
    ("knob", "error"),
    [
        ({"maintenance": True}, MaintenanceWindow),
        ({"captcha": "login"}, CaptchaRequired),
    ],
)
def test_a_blocking_page_answered_to_the_export_raises_the_taxonomy_error(
    portal: RunningPortal, setup: Setup, engine: EngineThread, knob: dict[str, Any], error: type[Exception]
) -> None:
    async def block(_tab: Tab) -> None:
        portal.configure(**knob)

    with pytest.raises(error):
        engine.call(_export_after_search(engine, setup, numbers_of(portal, 3), block))
    assert portal.counters()["exports"] == 0


def test_an_ended_session_answered_to_the_export_is_session_expired(
    portal: RunningPortal, setup: Setup, engine: EngineThread
) -> None:
    async def end_sessions(_tab: Tab) -> None:
        portal.reset_sessions()

    with pytest.raises(SessionExpired):
        engine.call(_export_after_search(engine, setup, numbers_of(portal, 3), end_sessions))
    assert portal.counters()["session_expired_pages"] == 1


def test_a_login_page_answered_to_the_export_is_session_expired(
    portal: RunningPortal, setup: Setup, engine: EngineThread
) -> None:
    async def forget_cookies(tab: Tab) -> None:
        await tab.page.context.clear_cookies()  # the portal redirects to Login.aspx

    with pytest.raises(SessionExpired, match="login page"):
        engine.call(_export_after_search(engine, setup, numbers_of(portal, 3), forget_cookies))


def test_a_session_that_expires_at_an_export_logs_in_again(
    portal: RunningPortal, setup: Setup, scrape: Scrape
) -> None:
    # Signed-in requests of a login: frameset 1, menu 2, search form 3, then per batch the search
    # and the export: with a limit of 6 the 7th, an export, meets the expired session each time.
    portal.configure(session_expire_after_requests=6)
    asked = numbers_of(portal, 12, start=60)
    result = scrape(asked, source=setup.portal_with(batch_size=3), options=options(mode="export"))

    assert result.outcome == "ok", result.errors
    assert sorted(result.stored) == sorted(asked)
    assert result.counts["logins"] >= 2 and portal.counters()["session_expired_pages"] >= 1
    assert portal.counters()["exports"] == 4


def test_attachment_file_names() -> None:
    assert attachment_filename('attachment; filename="Export_1.xlsx"') == "Export_1.xlsx"
    assert attachment_filename("attachment; filename*=UTF-8''%E5%AF%BC%E5%87%BA.xlsx") == "导出.xlsx"
    assert attachment_filename('attachment; filename="../../etc/x.xlsx"') == "x.xlsx"
    assert attachment_filename("inline") is None and attachment_filename("") is None


def test_the_browser_keeps_playwrights_disabled_features_and_adds_the_lean_ones(engine: EngineThread) -> None:
    async def command_line() -> list[str]:
        await engine.engine.pool.browser()
        process = engine.engine.pool.browser_process()
        assert process is not None
        return process.cmdline()

    switches = [part for part in engine.call(command_line()) if part.startswith("--disable-features=")]
    assert len(switches) >= 2, switches  # Playwright's own, then ours (Chromium reads the last)
    playwright = set(switches[0].partition("=")[2].split(","))
    ours = set(switches[-1].partition("=")[2].split(","))
    assert playwright <= ours, f"Playwright disables more now: add {sorted(playwright - ours)}"
    assert set(LEAN_DISABLED_FEATURES) <= ours
