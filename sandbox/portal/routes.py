"""The portal's pages: login, frameset, menu, search with postback paging and export, detail, vessels.

URLs look like an old ASP.NET WebForms site (`/Login.aspx`, `/Search.aspx`, ...; case-insensitive
like IIS). The Chinese variant lives under `/zh/` and is served in GBK. Every page first goes
through the hostile world (maintenance, latency, hangs, injected 5xx), then the session guard.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import math
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from sandbox.portal.accounts import AccountBook
from sandbox.portal.chaos import Chaos, Counters
from sandbox.portal.export import XLSX_MEDIA_TYPE, export_workbook
from sandbox.portal.labels import Labels, Language, labels_for
from sandbox.portal.options import PortalOptions
from sandbox.portal.render import captcha_image, html_response, render_page
from sandbox.portal.sessions import COOKIE, Session, SessionStore, ViewStateRejected
from sandbox.portal.views import (
    detail_cells,
    is_valid_number,
    local,
    result_rows,
    split_numbers,
    vessel_cells,
)
from sandbox.world import World, WorldClock

Handler = Callable[[Request, Language], Awaitable[Response]]
GRID_TARGETS = {"v1": "gvResults", "v2": "ctl00$body$unitGrid"}


class Portal:
    """Everything the pages share: options (live knobs), the world and its clock, sessions, counters."""

    def __init__(self, options: PortalOptions, world: World, clock: WorldClock) -> None:
        self.options = options
        self.world = world
        self.clock = clock
        self.sessions = SessionStore(options)
        self.accounts = AccountBook(options)
        self.chaos = Chaos(options)
        self.counters = Counters()
        self.stopping: asyncio.Event | None = None  # set by the server when it shuts down
        self.loop: asyncio.AbstractEventLoop | None = None
        self._pages: dict[str, Handler] = {
            "login.aspx": self.login,
            "default.aspx": self.frameset,
            "menu.aspx": self.menu,
            "search.aspx": self.search,
            "containerdetail.aspx": self.detail,
            "vesselschedule.aspx": self.vessels,
            "captcha.aspx": self.captcha,
            "logout.aspx": self.logout,
        }

    # Entry point -----------------------------------------------------------------------------

    async def dispatch(self, request: Request) -> Response:
        path: str = request.path_params.get("path", "")
        language: Language = "en"
        if path.lower() == "zh" or path.lower().startswith("zh/"):
            language, path = "zh", path[3:]
        name = path.lower()
        if name == "":
            return self._redirect(language, "Login.aspx")
        handler = self._pages.get(name)
        if handler is None:
            return Response("<h2>404 - File or directory not found.</h2>", 404, media_type="text/html")
        self.counters.page(f"/{'zh/' if language == 'zh' else ''}{name}")
        decision = self.chaos.decide()
        if decision.latency:
            await self._pause(decision.latency)
        if decision.hang:
            self.counters.add("hangs_injected")
            await self._pause(decision.hang)
        labels = self._labels(language)
        if self.chaos.in_maintenance(self.clock.now()):
            self.counters.add("maintenance_pages")
            return self._message(
                labels, "pnlMaintenance", "maintenance", status=503, headers={"Retry-After": "1800"}
            )
        if decision.error_status is not None:
            self.counters.add("errors_injected")
            return self._server_error(decision.error_status)
        return await handler(request, language)

    async def _pause(self, seconds: float) -> None:
        """Sleep, but wake at once when the server stops (a hanging page must not block shutdown)."""
        if self.stopping is None:
            await asyncio.sleep(seconds)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), timeout=seconds)

    # Pages -----------------------------------------------------------------------------------

    async def login(self, request: Request, language: Language) -> Response:
        labels = self._labels(language)
        session, _reason = self.sessions.lookup(request.cookies.get(COOKIE))
        if request.method == "GET":
            fresh = session is None
            session = session or self.sessions.create()
            return self._login_page(labels, session, set_cookie=fresh)
        form = await self._form(request, labels)
        if session is None:
            return self._viewstate_error("session")
        try:
            self.sessions.verify(session, form.get("__VIEWSTATE"), form.get("__EVENTVALIDATION"), "login")
        except ViewStateRejected as rejected:
            return self._viewstate_error(rejected.reason)
        username = form.get("txtUserName", "").strip()
        outcome = self.accounts.check(username, form.get("txtPassword", ""))
        if outcome != "ok":
            self.counters.login(username, ok=False)
            error = labels.texts["account_locked" if outcome == "locked" else "login_failed"]
            return self._login_page(labels, session, error=error, username=username)
        self.counters.login(username, ok=True)
        # A new session id on sign-in, as any decent portal does (session fixation).
        self.sessions.end(session)
        signed_in = self.sessions.create()
        signed_in.username = username
        response = self._redirect(language, "Default.aspx")
        self._set_cookie(response, signed_in)
        return response

    async def frameset(self, request: Request, language: Language) -> Response:
        guard = self._signed_in(request, language)
        if isinstance(guard, Response):
            return guard
        labels = self._labels(language)
        return html_response(render_page("frameset.html", labels), labels)

    async def menu(self, request: Request, language: Language) -> Response:
        guard = self._signed_in(request, language)
        if isinstance(guard, Response):
            return guard
        labels = self._labels(language)
        body = render_page(
            "menu.html",
            labels,
            username=guard.username,
            now=labels.timestamp(local(self.clock.now())),
            other_language_url="/Default.aspx" if language == "zh" else "/zh/Default.aspx",
        )
        return html_response(body, labels)

    async def search(self, request: Request, language: Language) -> Response:
        guard = self._signed_in(request, language)
        if isinstance(guard, Response):
            return guard
        session = guard
        labels = self._labels(language)
        if request.method == "GET":
            return self._search_page(labels, session)
        form = await self._form(request, labels)
        target = form.get("__EVENTTARGET", "")
        button = next((name for name in ("btnSearch", "btnExport") if name in form), "")
        try:
            state = self.sessions.verify(
                session, form.get("__VIEWSTATE"), form.get("__EVENTVALIDATION"), "search", target or button
            )
        except ViewStateRejected as rejected:
            return self._viewstate_error(rejected.reason)
        search_id = state.get("q")
        numbers = session.searches.get(search_id) if search_id else None
        if button == "btnSearch":
            entered = form.get("txtContainers", "")
            search = split_numbers(entered)
            if search.count == 0:
                return self._search_page(labels, session, entered=entered, error=labels.texts["no_numbers"])
            if search.count > self.options.max_search:
                self.counters.add("search_rejections")
                error = labels.texts["too_many"].format(count=search.count, max=self.options.max_search)
                return self._search_page(labels, session, entered=entered, error=error)
            if self.options.captcha == "search":
                return self._captcha_page(labels, session)
            self.counters.add("searches")
            self.counters.add("containers_searched", len(search.numbers))
            search_id = session.remember_search(search.numbers)
            return self._search_page(labels, session, search_id=search_id, page=1, entered=entered)
        if button == "btnExport" and numbers is not None:
            self.counters.add("exports")
            now = self.clock.now()
            rows = result_rows(self.world, numbers, now, labels)
            stamp = local(now).strftime("%Y%m%d_%H%M")
            disposition = f'attachment; filename="ContainerAvailability_{stamp}.xlsx"'
            return Response(
                export_workbook(rows, labels, local(now)),
                media_type=XLSX_MEDIA_TYPE,
                headers={"Content-Disposition": disposition, "Cache-Control": "private"},
            )
        if target == GRID_TARGETS[labels.layout] and numbers is not None:
            pages = self._page_count(numbers)
            current = int(state.get("i", 1))
            page = _page_from_argument(form.get("__EVENTARGUMENT", ""), current, pages)
            return self._search_page(labels, session, search_id=search_id, page=page)
        return self._search_page(labels, session)

    async def detail(self, request: Request, language: Language) -> Response:
        guard = self._signed_in(request, language)
        if isinstance(guard, Response):
            return guard
        labels = self._labels(language)
        self.counters.add("detail_pages")
        number = (request.query_params.get("cntr") or request.query_params.get("unit") or "").strip().upper()
        container = self.world.find(number) if is_valid_number(number) else None
        message = ""
        rows: list[tuple[str, str, str]] = []
        if container is None:
            message = labels.texts["detail_not_found"].format(number=number)
        else:
            cells = detail_cells(self.world.state(container, self.clock.now()), labels)
            rows = [
                (key, label, cells[key]) for key, label in labels.result_headers() + labels.detail_extra()
            ]
        viewstate, validation = self.sessions.issue(guard, "detail", {}, [])
        body = render_page(
            "detail.html",
            labels,
            action=f"ContainerDetail.aspx?cntr={number}",
            viewstate=viewstate,
            eventvalidation=validation,
            generator=_generator("detail"),
            rows=rows,
            message=message,
            colon=":" if language == "en" else "：",
        )
        return html_response(body, labels)

    async def vessels(self, request: Request, language: Language) -> Response:
        guard = self._signed_in(request, language)
        if isinstance(guard, Response):
            return guard
        labels = self._labels(language)
        self.counters.add("vessel_pages")
        now = self.clock.now()
        viewstate, validation = self.sessions.issue(guard, "vessels", {}, [])
        body = render_page(
            "vessels.html",
            labels,
            action="VesselSchedule.aspx",
            viewstate=viewstate,
            eventvalidation=validation,
            generator=_generator("vessels"),
            headers=labels.vessel_headers(),
            rows=[vessel_cells(call, now, labels) for call in self.world.vessel_calls],
            as_of=labels.timestamp(local(now)),
        )
        return html_response(body, labels)

    async def captcha(self, request: Request, language: Language) -> Response:
        labels = self._labels(language)
        session, _reason = self.sessions.lookup(request.cookies.get(COOKIE))
        if session is None or not session.signed_in:
            return self._redirect(language, "Login.aspx")
        if self.options.captcha is None:
            return self._redirect(language, "Default.aspx")
        if request.method == "POST":
            form = await self._form(request, labels)
            try:
                self.sessions.verify(
                    session, form.get("__VIEWSTATE"), form.get("__EVENTVALIDATION"), "captcha"
                )
            except ViewStateRejected as rejected:
                return self._viewstate_error(rejected.reason)
            # No answer is ever right: only a person (the admin endpoint) clears the challenge.
            return self._captcha_page(labels, session, error=labels.texts["captcha_wrong"])
        return self._captcha_page(labels, session)

    async def logout(self, request: Request, language: Language) -> Response:
        session, _reason = self.sessions.lookup(request.cookies.get(COOKIE))
        if session is not None:
            self.sessions.end(session)
        response = self._redirect(language, "Login.aspx")
        response.delete_cookie(COOKIE, path="/")
        return response

    # Building blocks -------------------------------------------------------------------------

    def _labels(self, language: Language) -> Labels:
        return labels_for(language, self.options.layout)

    def _signed_in(self, request: Request, language: Language) -> Session | Response:
        """The signed-in session, or the page a browser gets instead (login, expired, CAPTCHA)."""
        cookie = request.cookies.get(COOKIE)
        if not cookie:
            return self._redirect(language, "Login.aspx")
        session, _reason = self.sessions.lookup(cookie)
        labels = self._labels(language)
        if session is None:
            return self._expired(labels)
        if not session.signed_in:
            return self._redirect(language, "Login.aspx")
        if not self.sessions.count_signed_in_request(session):
            return self._expired(labels)
        if self.options.captcha == "login":
            return self._captcha_page(labels, session)
        return session

    def _login_page(self, labels: Labels, session: Session, *, set_cookie: bool = False, error: str = "",
                    username: str = "") -> Response:  # fmt: skip
        viewstate, validation = self.sessions.issue(session, "login", {}, ["btnLogin"])
        body = render_page(
            "login.html",
            labels,
            action="Login.aspx",
            viewstate=viewstate,
            eventvalidation=validation,
            generator=_generator("login"),
            error=error,
            username=username,
        )
        response = html_response(body, labels)
        if set_cookie:
            self._set_cookie(response, session)
        return response

    def _search_page(self, labels: Labels, session: Session, *, search_id: str | None = None, page: int = 1,
                     entered: str | None = None, error: str = "") -> Response:  # fmt: skip
        numbers = session.searches.get(search_id) if search_id else None
        rows = []
        pages = 1
        summary = ""
        if numbers is not None:
            pages = self._page_count(numbers)
            page = min(max(page, 1), pages)
            size = self.options.page_size
            window = numbers[(page - 1) * size : page * size]
            rows = result_rows(self.world, window, self.clock.now(), labels)
            found = sum(1 for number in numbers if is_valid_number(number) and self.world.find(number))
            summary = labels.texts["summary"].format(found=found, total=len(numbers), page=page, pages=pages)
            self.counters.add("result_pages")
            if entered is None:
                entered = "\n".join(numbers)
        grid_target = GRID_TARGETS[labels.layout]
        state = {"q": search_id, "i": page} if numbers is not None else {}
        viewstate, validation = self.sessions.issue(
            session, "search", state, [grid_target, "btnSearch", "btnExport"]
        )
        body = render_page(
            "search.html",
            labels,
            action="Search.aspx",
            viewstate=viewstate,
            eventvalidation=validation,
            generator=_generator("search"),
            hint=labels.texts["search_hint"].format(max=self.options.max_search),
            entered=entered or "",
            error=error,
            rows=rows,
            headers=labels.result_headers(),
            summary=summary,
            page=page,
            pages=pages,
            grid_target=grid_target,
        )
        return html_response(body, labels)

    def _captcha_page(self, labels: Labels, session: Session, error: str = "") -> Response:
        self.counters.add("captcha_pages")
        viewstate, validation = self.sessions.issue(session, "captcha", {}, ["btnVerify"])
        body = render_page(
            "captcha.html",
            labels,
            action="Captcha.aspx",
            viewstate=viewstate,
            eventvalidation=validation,
            generator=_generator("captcha"),
            image=captcha_image(f"{session.session_id}:{session.serial}"),
            error=error,
        )
        return html_response(body, labels)

    def _page_count(self, numbers: list[str]) -> int:
        return max(1, math.ceil(len(numbers) / self.options.page_size))

    def _expired(self, labels: Labels) -> Response:
        self.counters.add("session_expired_pages")
        return self._message(labels, "pnlSessionExpired", "expired", link="Login.aspx")

    def _message(self, labels: Labels, panel: str, kind: str, *, status: int = 200, link: str = "",
                 headers: dict[str, str] | None = None) -> Response:  # fmt: skip
        body = render_page(
            "message.html",
            labels,
            panel=panel,
            title=labels.texts[f"{kind}_title"],
            text=labels.texts[f"{kind}_text"],
            link=link,
            link_text=labels.texts["login_again"],
        )
        return html_response(body, labels, status=status, headers=headers)

    def _server_error(self, status: int) -> Response:
        body = render_page(
            "server_error.html",
            labels_for("en", "v1"),
            status=status,
            title="Runtime Error" if status == 500 else "Service Unavailable",
            heading="Runtime Error",
            description="An application error occurred on the server.",
            exception="System.Data.SqlClient.SqlException: Execution Timeout Expired.",
        )
        return html_response(body, None, status=status)

    def _viewstate_error(self, reason: str) -> Response:
        self.counters.add("viewstate_rejections")
        if reason == "event target not allowed":
            heading = "Invalid postback or callback argument."
        else:
            heading = "Validation of viewstate MAC failed."
        body = render_page(
            "server_error.html",
            labels_for("en", "v1"),
            status=500,
            title=heading,
            heading=heading,
            description="The state information is invalid for this page and might be corrupted.",
            exception=f"System.Web.HttpException: {heading} ({reason})",
        )
        return html_response(body, None, status=500)

    def _redirect(self, language: Language, page: str) -> Response:
        return RedirectResponse(("/zh/" if language == "zh" else "/") + page, status_code=302)

    def _set_cookie(self, response: Response, session: Session) -> None:
        response.set_cookie(COOKIE, session.session_id, path="/", httponly=True, samesite="lax")

    async def _form(self, request: Request, labels: Labels) -> dict[str, str]:
        """A urlencoded form body; the Chinese pages' browsers encode it in GBK."""
        body = (await request.body()).decode("latin-1")
        charset = "gbk" if labels.charset == "GBK" else "utf-8"
        fields = parse_qs(body, keep_blank_values=True, encoding=charset, errors="replace")
        return {name: values[0] for name, values in fields.items()}


def _page_from_argument(argument: str, current: int, pages: int) -> int:
    """ASP.NET GridView paging arguments: Page$3, Page$Next, Page$Prev, Page$First, Page$Last."""
    _, _, value = argument.partition("$")
    moves = {"Next": current + 1, "Prev": current - 1, "First": 1, "Last": pages}
    if value in moves:
        return min(max(moves[value], 1), pages)
    try:
        return min(max(int(value), 1), pages)
    except ValueError:
        return current


def _generator(page: str) -> str:
    return hashlib.md5(page.encode()).hexdigest()[:8].upper()
