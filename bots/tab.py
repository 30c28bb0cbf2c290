"""A browser page a bot drives, with what every family needs around Playwright's calls.

- every load goes through `before_load` (stop requests, the portal's rate limit) and is counted;
- the bytes of each document are kept exactly as the portal sent them (GBK pages stay GBK), for
  the parser and for evidence, also for frames the portal loads by itself (a frameset);
- Playwright's timeouts and browser errors become the taxonomy's PortalError.

Family bots call `goto`, `submit`, `download`, `post_form` and `frame_document`; nothing else of
Playwright's waiting rules leaks into them. `post_form` sends a form the page shows (a postback
whose answer is a download, say) through the context's own HTTP client (`context.request`, the
same cookies) instead of navigating: the browser renders nothing for it, yet it is a load like
the others (paced, counted, timed out, kept as sent).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from urllib.parse import urlencode

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Frame, Page, Response

from bots.retry import portal_error
from quaysync.errors import LayoutChangedError


@dataclass(frozen=True)
class Loaded:
    """One document (or download) as the portal sent it."""

    url: str
    status: int
    content: bytes
    frame: str = ""  # frame name ("" for the top page)
    filename: str | None = None  # for downloads: the name the portal suggested


Hook = Callable[[], Awaitable[None]]

_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-]+)", re.IGNORECASE)
_META_CHARSET = re.compile(r"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_\-]+)""", re.IGNORECASE)


def as_sent(body: bytes, content_type: str) -> bytes:
    """The document's bytes in the charset the portal sent them in.

    Chromium hands Playwright text documents already decoded, so `response.body()` of a GBK
    page is UTF-8. Parsers and evidence want what the portal sent (the page's <meta> says GBK),
    so such a body is encoded back into its declared charset. Bodies that are not UTF-8 text are
    the raw bytes already and are left alone.
    """
    if not content_type.lower().startswith("text/"):
        return body
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return body
    declared = _HEADER_CHARSET.search(content_type) or _META_CHARSET.search(text[:4096])
    charset = declared.group(1).lower() if declared else "utf-8"
    if charset in ("utf-8", "utf8"):
        return body
    try:
        return text.encode(charset, errors="xmlcharrefreplace")
    except LookupError:
        return body


# The fields a click on `submitter` would send, as the browser builds them (FormData with the
# submitter), and where to: the form's action resolved against the frame's URL.
_FORM_SUBMISSION = """(submitter) => {
  const button = document.querySelector(submitter);
  const form = button && button.form;
  if (!form) return null;
  const fields = [];
  for (const [name, value] of new FormData(form, button)) {
    if (typeof value === 'string') fields.push([name, value]);
  }
  return {action: form.action, method: (form.method || 'get').toLowerCase(),
          enctype: form.enctype, charset: document.characterSet, fields};
}"""


def attachment_filename(content_disposition: str) -> str | None:
    """The file name of a `Content-Disposition: attachment` header (RFC 6266/2231), else None."""
    if "attachment" not in content_disposition.lower():
        return None
    message = Message()
    message["content-disposition"] = content_disposition
    name = message.get_filename()
    return Path(name).name if name else "download"


async def _no_hook() -> None:
    return None


class Tab:
    """One page of an account's browser context."""

    def __init__(
        self,
        page: Page,
        *,
        timeout_seconds: float,
        before_load: Hook = _no_hook,
        on_loaded: Callable[[Loaded], None] | None = None,
        label: str = "",
    ) -> None:
        self.page = page
        self.timeout_ms = timeout_seconds * 1000
        self.label = label
        self._before_load = before_load
        self._on_loaded = on_loaded
        self._documents: dict[Frame, Response] = {}
        self.last: Loaded | None = None  # the last document read (evidence shows it)
        self.pages = 0  # documents and downloads received
        self.ready = False  # signed in and on the portal's start page
        self.state: dict[str, str] = {}  # the family bot's notes: which page each frame shows
        self.needs_login = False  # the portal said the session ended
        self.seen_generation = 0  # the account's login generation this tab last followed
        page.set_default_timeout(self.timeout_ms)
        page.set_default_navigation_timeout(self.timeout_ms)
        page.on("response", self._note_response)

    def _note_response(self, response: Response) -> None:
        with contextlib.suppress(PlaywrightError):
            if response.request.is_navigation_request():
                self._documents[response.frame] = response
                self.pages += 1

    # Frames ------------------------------------------------------------------------------------

    def frame(self, name: str) -> Frame:
        """The frame `name` of the page ("" for the top page); LayoutChangedError when missing."""
        if not name:
            return self.page.main_frame
        found = self.page.frame(name=name)
        if found is None:
            names = [frame.name for frame in self.page.frames if frame.name]
            raise LayoutChangedError(f"frame {name!r} not found (frames: {names})")
        return found

    async def frame_document(self, name: str) -> Loaded:
        """The document a frame loaded by itself (a frameset's frames), as the portal sent it."""
        frame = self.frame(name)
        response = self._documents.get(frame)
        if response is None:
            raise LayoutChangedError(f"frame {name!r} loaded no document")
        return await self._read(response, name, f"reading frame {name!r}")

    # Loads -------------------------------------------------------------------------------------

    async def goto(self, url: str, frame: str = "") -> Loaded:
        """Navigate the top page (or a frame) to `url`."""
        await self._before_load()
        target = self.frame(frame)
        try:
            response = await target.goto(url, wait_until="load")
        except PlaywrightError as error:
            raise portal_error(error, f"opening {url}") from None
        if response is None:
            raise portal_error(RuntimeError("no response"), f"opening {url}")
        return await self._read(response, frame, f"reading {url}")

    async def submit(self, frame: str, action: Callable[[Frame], Awaitable[object]], doing: str) -> Loaded:
        """Run `action` (a click, a postback) in `frame` and wait for the document it navigates to."""
        await self._before_load()
        target = self.frame(frame)
        try:
            async with target.expect_navigation(wait_until="load") as navigation:
                await action(target)
            response = await navigation.value
        except PlaywrightError as error:
            raise portal_error(error, doing) from None
        if response is None:
            raise portal_error(RuntimeError("no response"), doing)
        return await self._read(response, frame, doing)

    async def submit_top(
        self, frame: str, action: Callable[[Frame], Awaitable[object]], doing: str
    ) -> Loaded:
        """Run `action` in `frame` when it navigates the whole page (a login form, a `_top` link)."""
        await self._before_load()
        target = self.frame(frame)
        try:
            async with self.page.expect_navigation(wait_until="load") as navigation:
                await action(target)
            response = await navigation.value
        except PlaywrightError as error:
            raise portal_error(error, doing) from None
        if response is None:
            raise portal_error(RuntimeError("no response"), doing)
        return await self._read(response, "", doing)

    async def download(self, frame: str, action: Callable[[Frame], Awaitable[object]], doing: str) -> Loaded:
        """Run `action` expecting a file download; a page instead (an error, an expired session)
        comes back as a Loaded without `filename` for the caller to classify."""
        await self._before_load()
        target = self.frame(frame)
        downloading = asyncio.ensure_future(self.page.wait_for_event("download", timeout=self.timeout_ms))
        try:
            async with self.page.expect_event(
                "response",
                predicate=lambda response: (
                    response.request.is_navigation_request() and response.frame == target
                ),
                timeout=self.timeout_ms,
            ) as answered:
                await action(target)
            response = await answered.value
            headers = await response.all_headers()
            if "attachment" not in headers.get("content-disposition", "").lower():
                downloading.cancel()
                with contextlib.suppress(PlaywrightError):
                    await target.wait_for_load_state("load")
                return await self._read(response, frame, doing)
            download = await downloading
            path = await download.path()
            content = await asyncio.to_thread(Path(path).read_bytes)
            await download.delete()
        except PlaywrightError as error:
            raise portal_error(error, doing) from None
        finally:
            if not downloading.done():
                downloading.cancel()
            # Collect the waiter's outcome (cancelled, timed out) so nothing is left unretrieved.
            await asyncio.gather(downloading, return_exceptions=True)
        loaded = Loaded(response.url, response.status, content, frame, download.suggested_filename)
        self._remember(loaded)
        return loaded

    async def post_form(self, frame: str, submitter: str, doing: str) -> Loaded:
        """Send the form of button `submitter` (a CSS selector) in `frame` as a click would, through
        the context's HTTP client: the page stays where it is. A download comes back with its
        `filename`; any other answer (an error page, an expired session) without one, for the
        caller to classify. Redirects are followed as the browser would."""
        await self._before_load()
        target = self.frame(frame)
        try:
            form = await target.evaluate(_FORM_SUBMISSION, submitter)
        except PlaywrightError as error:
            raise portal_error(error, doing) from None
        if not isinstance(form, dict):
            raise LayoutChangedError(f"{doing}: no form with the button {submitter!r}")
        if form["method"] != "post" or form["enctype"] != "application/x-www-form-urlencoded":
            kind = f"{form['method']} {form['enctype']}"
            raise LayoutChangedError(f"{doing}: the form is {kind}, not a urlencoded post")
        charset = str(form["charset"] or "utf-8")
        fields = [(str(name), str(value)) for name, value in form["fields"]]
        try:
            body = urlencode(fields, encoding=charset, errors="xmlcharrefreplace")
        except LookupError:
            body = urlencode(fields)
        try:
            response = await self.page.context.request.post(
                str(form["action"]),
                data=body,
                headers={"Content-Type": "application/x-www-form-urlencoded", "Referer": target.url},
                timeout=self.timeout_ms,
                fail_on_status_code=False,
            )
            try:
                content = await response.body()
                headers = response.headers
                url, status = response.url, response.status
            finally:
                await response.dispose()
        except PlaywrightError as error:
            raise portal_error(error, doing) from None
        self.pages += 1
        filename = attachment_filename(headers.get("content-disposition", ""))
        loaded = Loaded(url, status, content, frame, filename)  # the bytes as sent: no re-encoding
        self._remember(loaded)
        return loaded

    async def _read(self, response: Response, frame: str, doing: str) -> Loaded:
        try:
            content = as_sent(await response.body(), response.headers.get("content-type", ""))
        except PlaywrightError as error:
            raise portal_error(error, doing) from None
        loaded = Loaded(response.url, response.status, content, frame)
        self._remember(loaded)
        return loaded

    def _remember(self, loaded: Loaded) -> None:
        self.last = loaded
        if self._on_loaded is not None:
            self._on_loaded(loaded)

    # Page actions that are not loads ---------------------------------------------------------

    async def evaluate(self, frame: str, script: str, argument: object = None, doing: str = "") -> object:
        try:
            return await self.frame(frame).evaluate(script, argument)
        except PlaywrightError as error:
            raise portal_error(error, doing or "running a script in the page") from None

    async def close(self) -> None:
        with contextlib.suppress(PlaywrightError):
            await self.page.close()
