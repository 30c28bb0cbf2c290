"""Recordings of a portal session (recordings/PORTAL/), and their replay without the portal.

`record_portal` drives the family bot through a whole session in a fresh context — login, frames,
a search paged through every results page, the export, one detail page, the vessel schedule —
with Playwright recording a HAR, and writes:

    recordings/PORTAL/session.har      every request and response (the export's bytes included)
    recordings/PORTAL/pages/NN-*.html  each document as the portal sent it (GBK stays GBK)
    recordings/PORTAL/pages/NN-*.xlsx  the export
    recordings/PORTAL/manifest.json    portal, family, base URL, containers, and each page's file,
                                       URL, frame and parser page

Secrets are masked in all of it (the password and the session cookies; see bots.masking). Since
the recorded login form carries the mask as the password, a replay types the mask
(`REPLAY_PASSWORD`) and the form matches what was recorded. `replay_recording` serves the HAR with
`route_from_har(not_found="abort")` — no server — and runs the same flow, so tests check the bot's
navigation offline and parsers read the snapshots.
"""

from __future__ import annotations

import base64
import json
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr

from bots.browser import BrowserPool
from bots.families import Capture, PortalBot, bot_class
from bots.masking import Masker
from bots.tab import Loaded, Tab
from bots.targets import clean_numbers
from quaysync.config import PortalAccount, PortalSource
from quaysync.errors import BadInputError
from quaysync.secrets import MASK, REDACTOR

REPLAY_PASSWORD = MASK
MANIFEST = "manifest.json"
HAR = "session.har"


@dataclass
class Session:
    """What one pass through the portal loaded, in order, and the captures for the parser."""

    loads: list[Loaded] = field(default_factory=list)
    captures: list[Capture] = field(default_factory=list)


async def _walk(
    bot: PortalBot, tab: Tab, username: str, password: str, numbers: list[str], session: Session
) -> None:
    """The recorded flow; the replay runs exactly the same steps."""
    await bot.login(tab, username, password)
    session.captures += await bot.search(tab, numbers)
    if bot.has_export:
        exported = await bot.export(tab)
        if exported is not None:
            session.captures.append(exported)
    if bot.has_details:
        detail = await bot.detail(tab, numbers[0])
        if detail is not None:
            session.captures.append(detail)
    if bot.has_vessels:
        vessels = await bot.vessels(tab)
        if vessels is not None:
            session.captures.append(vessels)


def _file_name(index: int, loaded: Loaded) -> str:
    if loaded.filename:
        return f"{index:02d}-{Path(loaded.filename).name}"
    page = Path(urlsplit(loaded.url).path).name or "index"
    return f"{index:02d}-{loaded.frame or 'top'}-{page}.html"


async def record_portal(
    portal: PortalSource,
    container_numbers: list[str],
    out_dir: Path,
    *,
    pool: BrowserPool,
) -> dict[str, Any]:
    """Record one session of `portal` into `out_dir` (replaced); returns the manifest."""
    numbers = clean_numbers(container_numbers)
    if not numbers:
        raise BadInputError("a recording needs at least one container number")
    bot = bot_class(portal.family)(portal, "pages" if "pages" in bot_class(portal.family).modes else None)
    account = portal.accounts[0]
    password = account.password.get_secret_value()
    REDACTOR.register(password)
    workspace = Path(tempfile.mkdtemp(prefix="quaysync-record-"))
    session = Session()
    try:
        har_path = workspace / HAR
        context = await pool.new_context(
            record_har_path=str(har_path), record_har_content="embed", accept_downloads=True
        )
        try:
            page = await context.new_page()
            tab = Tab(page, timeout_seconds=portal.timeout.total_seconds(), on_loaded=session.loads.append)
            await _walk(bot, tab, account.username, password, numbers, session)
            cookies = [cookie["value"] for cookie in await context.cookies() if cookie.get("value")]
        finally:
            await context.close()  # writes the HAR
        masker = Masker([password, *cookies, *_set_cookie_values(har_path)])
        har = json.loads(har_path.read_text(encoding="utf-8"))
        _embed_downloads(har, session.loads)
        har = masker.har_document(har)

        staging = workspace / "out"
        (staging / "pages").mkdir(parents=True)
        (staging / HAR).write_text(json.dumps(har, ensure_ascii=False, indent=1), encoding="utf-8")
        captured = {(capture.url, capture.content) for capture in session.captures}
        pages_by_key = {(c.url, c.content): c.page for c in session.captures}
        entries = []
        for index, loaded in enumerate(session.loads, start=1):
            name = _file_name(index, loaded)
            content = loaded.content if loaded.filename else masker.bytes(loaded.content)
            (staging / "pages" / name).write_bytes(content)
            key = (loaded.url, loaded.content)
            entries.append(
                {
                    "file": f"pages/{name}",
                    "url": loaded.url,
                    "frame": loaded.frame,
                    "status": loaded.status,
                    "parser_page": pages_by_key.get(key) if key in captured else None,
                }
            )
        manifest = {
            "portal": portal.name,
            "family": portal.family,
            "language": portal.language,
            "time_zone": portal.time_zone,
            "base_url": portal.base_url,
            "username": account.username,
            "password": f"masked: a replay types {REPLAY_PASSWORD!r}",
            "containers": numbers,
            "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "har": HAR,
            "pages": entries,
        }
        (staging / MANIFEST).write_text(
            json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
        if out_dir.exists():
            shutil.rmtree(out_dir)
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(staging, out_dir)
        return manifest
    finally:
        shutil.rmtree(workspace, ignore_errors=True)


def _set_cookie_values(har_path: Path) -> list[str]:
    """Every cookie value the portal ever set (the pre-login session id too)."""
    har = json.loads(har_path.read_text(encoding="utf-8"))
    values = []
    for entry in har.get("log", {}).get("entries", []):
        for cookie in entry.get("response", {}).get("cookies", []) or []:
            if cookie.get("value"):
                values.append(str(cookie["value"]))
    return values


def _embed_downloads(har: dict[str, Any], loads: list[Loaded]) -> None:
    """Chromium leaves download bodies out of a HAR; put them back so a replay can download them."""
    downloads = [loaded for loaded in loads if loaded.filename]
    entries = har.get("log", {}).get("entries", [])
    for loaded in downloads:
        for entry in entries:
            response = entry.get("response", {})
            disposition = next(
                (
                    h["value"]
                    for h in response.get("headers", [])
                    if h.get("name", "").lower() == "content-disposition"
                ),
                "",
            )
            content = response.get("content", {})
            if (
                entry["request"]["url"] == loaded.url
                and "attachment" in disposition
                and not content.get("text")
            ):
                content["text"] = base64.b64encode(loaded.content).decode("ascii")
                content["encoding"] = "base64"
                content["size"] = len(loaded.content)
                response["bodySize"] = len(loaded.content)
                break


def load_manifest(recording: Path) -> dict[str, Any]:
    path = recording / MANIFEST
    if not path.exists():
        raise BadInputError(f"{recording}: no {MANIFEST}; record one with `run.py record PORTAL`")
    return json.loads(path.read_text(encoding="utf-8"))


def replay_portal(manifest: dict[str, Any], timeout_seconds: float = 15) -> PortalSource:
    """The portal as recorded, with the replay password."""
    return PortalSource(
        name=manifest["portal"],
        family=manifest["family"],
        base_url=manifest["base_url"],
        language=manifest.get("language", "en"),
        time_zone=manifest.get("time_zone", "UTC"),
        timeout=timeout_seconds,
        accounts=[PortalAccount(username=manifest["username"], password=SecretStr(REPLAY_PASSWORD))],
    )


async def replay_recording(recording: Path, *, pool: BrowserPool, timeout_seconds: float = 15) -> Session:
    """Run the recorded flow against the HAR alone (unknown requests are aborted)."""
    manifest = load_manifest(recording)
    portal = replay_portal(manifest, timeout_seconds)
    bot = bot_class(portal.family)(portal, "pages" if "pages" in bot_class(portal.family).modes else None)
    session = Session()
    context = await pool.new_context(accept_downloads=True)
    try:
        await context.route_from_har(str(recording / manifest["har"]), not_found="abort")
        page = await context.new_page()
        tab = Tab(page, timeout_seconds=timeout_seconds, on_loaded=session.loads.append)
        await _walk(bot, tab, manifest["username"], REPLAY_PASSWORD, manifest["containers"], session)
    finally:
        await context.close()
    return session
