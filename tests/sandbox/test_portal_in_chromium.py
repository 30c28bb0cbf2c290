"""The sandbox portal works in a real browser: frames, `__doPostBack` paging, the export download, GBK.

Not the bot (another suite drives the bot against the portal); this only proves the pages are real
web pages a browser can use, with no help from the test.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page
from sandbox_portal_http import PASSWORD

from parsers.portals.sandbox import classify_page, parse_export, parse_results
from quaysync.model import ParseContext
from sandbox.portal import RunningPortal

pytestmark = pytest.mark.browser
CONTEXT = ParseContext(source="portal:sandbox", source_ref="chromium")


def _sign_in(page: Page, portal: RunningPortal, prefix: str = "") -> None:
    page.goto(portal.url + prefix + "Login.aspx")
    page.fill("#txtUserName", "ops")
    page.fill("#txtPassword", PASSWORD)
    page.click("#btnLogin")
    page.wait_for_url("**/Default.aspx")


def test_frames_postback_paging_and_export_in_chromium(page: Page, portal: RunningPortal) -> None:
    _sign_in(page, portal)
    main = page.frame(name="main")
    menu = page.frame(name="menu")
    assert main is not None and menu is not None
    main.wait_for_selector("#txtContainers")
    numbers = [container.container_number for container in portal.world.containers[:45]]
    main.fill("#txtContainers", "\n".join(numbers))
    with main.expect_navigation():
        main.click("#btnSearch")
    first = parse_results(main.content().encode(), CONTEXT)
    assert [o.fields["container_no"] for o in first] == numbers[:20]
    with main.expect_navigation():
        main.click("#gvResults tr.pgr a:text-is('3')")  # javascript:__doPostBack('gvResults','Page$3')
    third = parse_results(main.content().encode(), CONTEXT)
    assert [o.fields["container_no"] for o in third] == numbers[40:]
    with page.expect_download() as info:
        main.click("#btnExport")
    download = info.value
    assert download.suggested_filename.startswith("ContainerAvailability_")
    exported = parse_export(Path(download.path()).read_bytes(), CONTEXT)
    assert [o.fields["container_no"] for o in exported] == numbers
    # The menu frame drives the main frame.
    with main.expect_navigation():
        menu.click("#lnkVessels")
    assert classify_page(main.content().encode()) == "vessels"


def test_chinese_pages_render_from_gbk(page: Page, portal: RunningPortal) -> None:
    _sign_in(page, portal, "zh/")
    main = page.frame(name="main")
    main.wait_for_selector("#btnSearch")
    assert main.locator("#btnSearch").get_attribute("value") == "查询"
    main.fill("#txtContainers", portal.world.containers[0].container_number)
    with main.expect_navigation():
        main.click("#btnSearch")
    assert "箱号" in main.locator("#gvResults tr.hdr").inner_text()
