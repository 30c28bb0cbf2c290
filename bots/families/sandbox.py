"""The sandbox portal family (sandbox/portal): an ASP.NET WebForms terminal portal with frames.

Navigation only. Login.aspx → Default.aspx (frameset: "menu" and "main") → Search.aspx in frame
"main": a textarea of up to 50 numbers, results in a grid paged by `__doPostBack` links, and an
"Export to Excel" button that downloads every row of the search. The bot reads the results either
way (mode "export": one search + one download per batch, the fewest loads; mode "pages": the
search and each grid page). In mode "export" the download is the results form posted through the
context's HTTP client (`Tab.post_form`: the same cookies, the fields a click would send), so
Chromium renders nothing for it; `export()` is the click and the browser's download, as a person
does it (recordings use it, and their replays route the browser's requests only). Which page the
portal answered is told by the family parser's `classify_page`; anything but the expected page
raises the taxonomy's error.
"""

from __future__ import annotations

import math
from typing import ClassVar
from urllib.parse import quote, urljoin

from playwright.async_api import Frame

from bots.families.base import BatchTooLarge, Capture, PortalBot
from bots.tab import Loaded, Tab
from parsers.portals.sandbox import classify_page, read_pager
from quaysync.errors import LayoutChangedError, PortalError, error_for_page

FAMILY = "sandbox"
MAIN = "main"  # the frame the portal's pages open in

_FILL_AND_SEARCH = """([value]) => {
  const box = document.getElementById('txtContainers');
  const button = document.getElementById('btnSearch');
  if (!box || !button) return false;
  box.value = value;
  button.click();
  return true;
}"""
_SIGN_IN = """([user, password]) => {
  const name = document.getElementById('txtUserName');
  const secret = document.getElementById('txtPassword');
  const button = document.getElementById('btnLogin');
  if (!name || !secret || !button) return false;
  name.value = user;
  secret.value = password;
  button.click();
  return true;
}"""
_PAGE_LINK = """(number) => {
  const links = [...document.querySelectorAll('#gvResults tr.pgr a')];
  const link = links.find((a) => a.textContent.trim() === String(number));
  if (!link) return false;
  link.click();  // javascript:__doPostBack('gvResults','Page$N')
  return true;
}"""
_EXPORT = """() => {
  const button = document.getElementById('btnExport');
  if (!button) return false;
  button.click();
  return true;
}"""


def raise_for_page(kind: str, expected: str, what: str) -> None:
    """The taxonomy's error for a page of `kind` where `expected` was wanted (nothing if it is)."""
    if kind == expected:
        return
    known = error_for_page(kind, what)
    if known is not None:
        raise known
    if kind == "unknown":
        raise LayoutChangedError(f"{what}: expected the {expected} page, got a page this bot does not know")
    # A page the portal has, but not the one the step leads to (a lost postback): try again.
    raise PortalError(f"{what}: expected the {expected} page, the portal answered with the {kind} page")


async def _run(frame: Frame, script: str, argument: object, what: str) -> None:
    if not await frame.evaluate(script, argument):
        raise LayoutChangedError(f"{what}: the element to act on is missing")


class SandboxBot(PortalBot):
    family: ClassVar[str] = FAMILY
    max_batch: ClassVar[int] = 50
    modes: ClassVar[tuple[str, ...]] = ("export", "pages")
    has_vessels: ClassVar[bool] = True
    has_details: ClassVar[bool] = True
    has_export: ClassVar[bool] = True
    page_size: ClassVar[int] = 20  # grid rows per results page (for the fewest-loads estimate)

    def url(self, page: str) -> str:
        prefix = "zh/" if self.portal.language == "zh" else ""
        base = self.portal.base_url if self.portal.base_url.endswith("/") else self.portal.base_url + "/"
        return urljoin(base, prefix + page)

    # Start page and login ----------------------------------------------------------------------

    async def open(self, tab: Tab) -> None:
        if tab.state.get("top") == "frameset" and tab.page.frame(name=MAIN) is not None:
            # Still inside the frameset (after a failed page): one load of the search page is enough.
            tab.ready = False
            tab.state[MAIN] = ""
            page = await tab.goto(self.url("Search.aspx"), frame=MAIN)
            raise_for_page(classify_page(page.content), "search", "opening the search page")
            tab.state[MAIN] = "search"
            tab.ready = True
            return
        top = await tab.goto(self.url("Default.aspx"))
        await self._land(tab, top, "opening the portal")

    async def _land(self, tab: Tab, top: Loaded, what: str) -> None:
        """After a top-level load: the frameset with the search page in frame main, or an error."""
        tab.ready = False
        tab.state = {}
        raise_for_page(classify_page(top.content), "frameset", what)
        main = await tab.frame_document(MAIN)
        kind = classify_page(main.content)
        tab.state = {"top": "frameset"}
        raise_for_page("search" if kind == "results" else kind, "search", f"{what} (frame {MAIN})")
        tab.state[MAIN] = kind
        tab.ready = True

    async def login(self, tab: Tab, username: str, password: str) -> None:
        tab.state = {}
        current = tab.last
        # The login page just read (opening the portal led there) is used as it is, unless the
        # page has moved on since (a sign-in that timed out half-way).
        reuse = current is not None and not current.frame and classify_page(current.content) == "login"
        if not reuse or await tab.page.query_selector("#txtUserName") is None:
            current = await tab.goto(self.url("Login.aspx"))
        raise_for_page(classify_page(current.content), "login", "opening the login page")
        top = await tab.submit_top(
            "", lambda frame: _run(frame, _SIGN_IN, [username, password], "login form"), "signing in"
        )
        await self._land(tab, top, "signing in")

    # Searching ---------------------------------------------------------------------------------

    async def _to_search_form(self, tab: Tab) -> None:
        """Frame main on the search form (a results page carries the form too)."""
        if tab.state.get(MAIN) in ("search", "results"):
            return
        page = await tab.goto(self.url("Search.aspx"), frame=MAIN)
        kind = classify_page(page.content)
        raise_for_page(kind, "search", "opening the search page")
        tab.state[MAIN] = kind

    async def search(self, tab: Tab, container_numbers: list[str]) -> list[Capture]:
        await self._to_search_form(tab)
        tab.state[MAIN] = ""  # unknown until the answer is read
        text = "\n".join(container_numbers)
        results = await tab.submit(
            MAIN, lambda frame: _run(frame, _FILL_AND_SEARCH, [text], "search form"), "searching"
        )
        kind = classify_page(results.content)
        if kind == "search_rejected" and len(container_numbers) > 1:
            raise BatchTooLarge(f"the portal refused a search of {len(container_numbers)} numbers")
        raise_for_page(kind, "results", "searching")
        tab.state[MAIN] = "results"
        if self.mode == "export":
            return [await self.fetch_export(tab)]
        captures = [Capture.of("results", results)]
        pager = read_pager(results.content)
        while pager.has_next:
            wanted = pager.page + 1
            page = await tab.submit(
                MAIN,
                lambda frame, number=wanted: _run(frame, _PAGE_LINK, number, f"pager link {number}"),
                f"opening results page {wanted}",
            )
            tab.state[MAIN] = ""
            raise_for_page(classify_page(page.content), "results", f"results page {wanted}")
            tab.state[MAIN] = "results"
            pager = read_pager(page.content)
            if pager.page != wanted:
                raise PortalError(f"asked for results page {wanted}, the portal showed page {pager.page}")
            captures.append(Capture.of("results", page))
        return captures

    async def export(self, tab: Tab) -> Capture:
        """The "Export to Excel" download of the search on the results page frame main shows."""
        answer = await tab.download(
            MAIN, lambda frame: _run(frame, _EXPORT, None, "export button"), "exporting the results"
        )
        return self._exported(tab, answer)

    async def fetch_export(self, tab: Tab) -> Capture:
        """The same download as `export`, posted through the context's HTTP client: no navigation."""
        answer = await tab.post_form(MAIN, "#btnExport", "exporting the results")
        return self._exported(tab, answer)

    def _exported(self, tab: Tab, answer: Loaded) -> Capture:
        if answer.filename is None:
            tab.state[MAIN] = ""
            raise_for_page(classify_page(answer.content), "export", "exporting the results")
        return Capture.of("export", answer)

    # Other pages -------------------------------------------------------------------------------

    async def detail(self, tab: Tab, container_number: str) -> Capture:
        tab.state[MAIN] = ""
        page = await tab.goto(self.url(f"ContainerDetail.aspx?cntr={quote(container_number)}"), frame=MAIN)
        raise_for_page(classify_page(page.content), "detail", f"detail of {container_number}")
        tab.state[MAIN] = "detail"
        return Capture.of("detail", page)

    async def vessels(self, tab: Tab) -> Capture:
        tab.state[MAIN] = ""
        page = await tab.goto(self.url("VesselSchedule.aspx"), frame=MAIN)
        raise_for_page(classify_page(page.content), "vessels", "the vessel schedule")
        tab.state[MAIN] = "vessels"
        return Capture.of("vessels", page)

    def loads_per_batch(self, batch_size: int) -> int:
        """Export: the search and the download. Pages: the search and each further grid page."""
        if self.mode == "export":
            return 2
        return max(1, math.ceil(batch_size / self.page_size))


BOT = SandboxBot
