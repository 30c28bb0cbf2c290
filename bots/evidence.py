"""Failure evidence of a run: screenshot, HTML snapshot and Playwright trace, secrets masked.

    <data_dir>/evidence/run-<id>/<NN>-<account>-<label>.png        the page as a person would see it
                                 <NN>-<account>-<label>.html       the document the bot read, as sent
                                 <NN>-<account>-<label>.dom.html   the page's DOM (frames included)
                                 <NN>-<account>-<label>.trace.zip  Playwright trace (open with
                                                                   `playwright show-trace`)

Passwords and the session's cookie values are masked in every file (see bots.masking). A run keeps
at most `full_captures` screenshot+trace sets; later failures keep their HTML only, so a portal
failing every page cannot fill the disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

from playwright.async_api import Error as PlaywrightError

from bots.masking import Masker
from bots.tab import Tab

log = logging.getLogger(__name__)

TraceWriter = Callable[[Path], Awaitable[bool]]
_LABEL = re.compile(r"[^A-Za-z0-9_\-]+")
_SCREENSHOT_TIMEOUT_MS = 5000


class Evidence:
    """Evidence files of one run."""

    def __init__(self, data_dir: Path, run_id: int, full_captures: int = 30) -> None:
        self.directory = Path(data_dir) / "evidence" / f"run-{run_id}"
        self.full_captures = full_captures
        self.paths: list[str] = []
        self._count = 0
        self._lock = asyncio.Lock()

    async def capture(
        self, tab: Tab | None, *, account: str, label: str, masker: Masker, trace: TraceWriter | None = None
    ) -> dict[str, str]:
        """Save what the tab shows now; returns {"screenshot"|"html"|"dom"|"trace": path}."""
        async with self._lock:
            self._count += 1
            number = self._count
        self.directory.mkdir(parents=True, exist_ok=True)
        stem = self.directory / f"{number:03d}-{_LABEL.sub('_', account)}-{_LABEL.sub('_', label)[:60]}"
        saved: dict[str, str] = {}
        full = number <= self.full_captures
        if tab is not None and tab.last is not None:
            path = stem.with_suffix(".html")
            path.write_bytes(masker.bytes(tab.last.content))
            saved["html"] = str(path)
        if tab is not None and full:
            saved.update(await self._page(tab, stem, masker))
        if trace is not None and full:
            path = stem.with_suffix(".trace.zip")
            try:
                if await trace(path) and path.exists():
                    await asyncio.to_thread(masker.trace_zip, path)
                    saved["trace"] = str(path)
            except (PlaywrightError, OSError, ValueError) as error:
                path.unlink(missing_ok=True)
                log.warning("trace not saved", extra={"error": str(error)})
        self.paths.extend(saved.values())
        return saved

    async def _page(self, tab: Tab, stem: Path, masker: Masker) -> dict[str, str]:
        saved: dict[str, str] = {}
        page = tab.page
        if page.is_closed():
            return saved
        timeout_ms = min(_SCREENSHOT_TIMEOUT_MS, tab.timeout_ms)
        screenshot = stem.with_suffix(".png")
        with contextlib.suppress(PlaywrightError):  # a hanging or crashed page may not paint
            await page.screenshot(path=str(screenshot), full_page=True, timeout=timeout_ms)
            saved["screenshot"] = str(screenshot)
        with contextlib.suppress(PlaywrightError, TimeoutError):
            parts = []
            for frame in page.frames:
                content = await asyncio.wait_for(frame.content(), timeout_ms / 1000)
                parts.append(f"<!-- frame {frame.name or '(top)'}: {frame.url} -->\n{content}")
            dom = stem.with_suffix(".dom.html")
            dom.write_text(masker.text("\n".join(parts)), encoding="utf-8")
            saved["dom"] = str(dom)
        return saved
