"""A plain-HTTP client for the sandbox portal, the way a browser talks to it (used by the tests).

It carries the session cookie, reads the anti-forgery fields from the last page, posts forms in the
page's charset (GBK for the Chinese variant) and fires `__doPostBack` like the page's script does.
"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlencode

import httpx

from sandbox.portal import PortalOptions, RunningPortal
from sandbox.world import DEFAULT_EPOCH

PASSWORD = "harbour-Pilot-42"
PINNED = DEFAULT_EPOCH + timedelta(
    days=6, hours=16
)  # 2026-11-07 16:00 local: every lifecycle state is present
_HIDDEN = re.compile(r'<input type="hidden" name="(__[A-Z]+)" id="__[A-Z]+" value="([^"]*)" />')


def options(**overrides: object) -> PortalOptions:
    base: dict[str, object] = {"accounts": {"ops": PASSWORD}, "clock_pinned": PINNED, "seed": 7}
    base.update(overrides)
    return PortalOptions(**base)  # type: ignore[arg-type]


def page_text(response: httpx.Response) -> str:
    charset = "gbk" if "charset=GBK" in response.headers.get("content-type", "") else "utf-8"
    return response.content.decode(charset)


def hidden_fields(response: httpx.Response) -> dict[str, str]:
    return dict(_HIDDEN.findall(page_text(response)))


class PortalClient:
    def __init__(self, portal: RunningPortal, language: str = "en", timeout: float = 10.0) -> None:
        self.portal = portal
        self.language = language
        self.prefix = "/zh/" if language == "zh" else "/"
        self.http = httpx.Client(base_url=portal.url, timeout=timeout, follow_redirects=False)

    def close(self) -> None:
        self.http.close()

    def get(self, page: str, **params: str) -> httpx.Response:
        return self.http.get(self.prefix + page, params=params or None)

    def post(self, page: str, fields: dict[str, str]) -> httpx.Response:
        """A form post encoded as the browser would: in the page's charset."""
        body = urlencode(fields, encoding="gbk" if self.language == "zh" else "utf-8")
        return self.http.post(
            self.prefix + page, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )

    def submit(self, page: str, previous: httpx.Response, **fields: str) -> httpx.Response:
        """Post `page`'s form with the hidden fields of `previous` (the page the form came from)."""
        return self.post(page, {**hidden_fields(previous), **fields})

    def login(self, username: str = "ops", password: str = PASSWORD) -> httpx.Response:
        form = self.get("Login.aspx")
        return self.submit("Login.aspx", form, txtUserName=username, txtPassword=password, btnLogin="Log In")

    def search(self, numbers: list[str] | str) -> httpx.Response:
        text = numbers if isinstance(numbers, str) else "\n".join(numbers)
        form = self.get("Search.aspx")
        return self.submit("Search.aspx", form, txtContainers=text, btnSearch="Search")

    def postback(self, previous: httpx.Response, target: str, argument: str) -> httpx.Response:
        """What `javascript:__doPostBack(target, argument)` posts."""
        fields = {**hidden_fields(previous), "__EVENTTARGET": target, "__EVENTARGUMENT": argument}
        return self.post("Search.aspx", fields)

    def export(self, results: httpx.Response) -> httpx.Response:
        return self.submit("Search.aspx", results, btnExport="Export to Excel")
