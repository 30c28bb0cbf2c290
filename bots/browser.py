"""One Chromium per process: launched on first use, relaunched after a crash, closed without orphans.

`BrowserPool` owns Playwright's driver and the browser. Every portal account gets its own browser
context from `new_context()`; the pool counts them and relaunches the browser between runs once it
has served `relaunch_after_contexts` contexts, so a long-running worker's memory stays bounded.

Every browser process the pool starts is remembered (pid + start time, see `launched_processes`);
`close()` waits for them to exit and kills any that linger, so no Chromium outlives a stop or a
crash of a run. Tests check the same registry for orphans.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from dataclasses import dataclass
from typing import Any

import psutil
from playwright.async_api import Browser, BrowserContext, Playwright, async_playwright

from quaysync.browser import find_chromium
from quaysync.config import BrowserOptions
from quaysync.errors import ConfigError

log = logging.getLogger(__name__)

_EXIT_WAIT_SECONDS = 5.0


@dataclass(frozen=True)
class ProcessMark:
    """A process the pool started: the pid alone could be reused by another process later."""

    pid: int
    create_time: float

    def alive(self) -> bool:
        try:
            process = psutil.Process(self.pid)
            return process.create_time() == self.create_time and process.status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            return False


_LAUNCHED: set[ProcessMark] = set()
_LAUNCHED_LOCK = threading.Lock()


def launched_processes() -> set[ProcessMark]:
    """Every browser/driver process any pool of this process has started (for orphan checks)."""
    with _LAUNCHED_LOCK:
        return set(_LAUNCHED)


_CLAIMED_DRIVERS: set[int] = set()


def _children(pid: int, recursive: bool) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=recursive)
    except psutil.Error:
        return []


def _is_driver(process: psutil.Process) -> bool:
    try:
        return "playwright" in " ".join(process.cmdline()).lower()
    except psutil.Error:
        return False


def _claim_driver(before: set[int]) -> int | None:
    """The Playwright driver this pool just started: a new child of ours no other pool claimed."""
    with _LAUNCHED_LOCK:
        for process in _children(os.getpid(), recursive=False):
            if process.pid not in before and process.pid not in _CLAIMED_DRIVERS and _is_driver(process):
                _CLAIMED_DRIVERS.add(process.pid)
                return process.pid
    return None


def _remember(processes: list[psutil.Process]) -> set[ProcessMark]:
    marks = set()
    for process in processes:
        with contextlib.suppress(psutil.Error):
            marks.add(ProcessMark(process.pid, process.create_time()))
    with _LAUNCHED_LOCK:
        _LAUNCHED.update(marks)
    return marks


class BrowserPool:
    """A lazily launched Chromium shared by every portal run of this process."""

    def __init__(
        self,
        options: BrowserOptions | None = None,
        *,
        relaunch_after_contexts: int = 200,
        launch_options: dict[str, Any] | None = None,
    ) -> None:
        self.options = options or BrowserOptions()
        self.relaunch_after_contexts = relaunch_after_contexts
        self._launch_options = launch_options
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._lock = asyncio.Lock()
        self._contexts_served = 0
        self._open_contexts: set[BrowserContext] = set()
        self._marks: set[ProcessMark] = set()
        self._driver_pid: int | None = None
        self.launches = 0

    def launch_options(self) -> dict[str, Any]:
        if self._launch_options is not None:
            return dict(self._launch_options)
        choice = find_chromium(self.options.executable_path)
        if choice is None:
            wanted = self.options.executable_path
            raise ConfigError([f"browser.executable_path: no Chromium found ({wanted!r}); run scripts/setup"])
        return choice.launch_options(headless=self.options.headless)

    async def browser(self) -> Browser:
        """The running browser; launched (or relaunched after a crash, or when due) here."""
        async with self._lock:
            due = self._contexts_served >= self.relaunch_after_contexts and not self._open_contexts
            if self._browser is not None and (not self._browser.is_connected() or due):
                log.info("relaunching chromium", extra={"contexts_served": self._contexts_served})
                await self._close_browser()
            if self._browser is None:
                if self._playwright is None:
                    before = {process.pid for process in _children(os.getpid(), recursive=False)}
                    self._playwright = await async_playwright().start()
                    self._driver_pid = _claim_driver(before)
                self._browser = await self._playwright.chromium.launch(**self.launch_options())
                self._contexts_served = 0
                self.launches += 1
                self.note_processes()
            return self._browser

    async def new_context(self, **options: Any) -> BrowserContext:
        browser = await self.browser()
        context = await browser.new_context(**options)
        self._contexts_served += 1
        self._open_contexts.add(context)
        context.on("close", lambda closed: self._open_contexts.discard(closed))
        return context

    def note_processes(self) -> None:
        """Remember the driver and every browser process under it (renderers come and go with pages)."""
        if self._driver_pid is None:
            return
        try:
            driver = psutil.Process(self._driver_pid)
        except psutil.Error:
            return
        self._marks |= _remember([driver, *_children(driver.pid, recursive=True)])

    def browser_process(self) -> psutil.Process | None:
        """Chromium's main process (the one whose crash ends every context), if running."""
        if self._driver_pid is None:
            return None
        for process in _children(self._driver_pid, recursive=False):
            with contextlib.suppress(psutil.Error):
                if "chrom" in process.name().lower() and not any(
                    part.startswith("--type=") for part in process.cmdline()
                ):
                    return process
        return None

    def process_ids(self) -> list[int]:
        """Live processes of this pool's browser and driver (for memory sampling)."""
        return [mark.pid for mark in list(self._marks) if mark.alive()]  # list(): a copy under the GIL

    async def _close_browser(self) -> None:
        browser, self._browser = self._browser, None
        self._open_contexts.clear()
        if browser is not None:
            self.note_processes()
            with contextlib.suppress(Exception):  # a crashed browser cannot be closed politely
                await asyncio.wait_for(browser.close(), _EXIT_WAIT_SECONDS)

    async def close(self) -> None:
        """Close the browser and the driver; kill whatever they left behind."""
        async with self._lock:
            self.note_processes()
            await self._close_browser()
            playwright, self._playwright = self._playwright, None
            if playwright is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(playwright.stop(), _EXIT_WAIT_SECONDS)
            await asyncio.to_thread(reap, self._marks)
            self._marks = {mark for mark in self._marks if mark.alive()}
            with _LAUNCHED_LOCK:
                _CLAIMED_DRIVERS.discard(self._driver_pid or -1)
            self._driver_pid = None

    @property
    def running(self) -> bool:
        return self._browser is not None and self._browser.is_connected()

    async def __aenter__(self) -> BrowserPool:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()


def reap(marks: set[ProcessMark], wait_seconds: float = _EXIT_WAIT_SECONDS) -> list[int]:
    """Wait for the given processes to exit; kill the ones still alive. Returns the pids killed."""
    processes = []
    for mark in marks:
        if mark.alive():
            with contextlib.suppress(psutil.Error):
                processes.append(psutil.Process(mark.pid))
    if not processes:
        return []
    _gone, alive = psutil.wait_procs(processes, timeout=wait_seconds)
    killed = []
    for process in alive:
        with contextlib.suppress(psutil.Error):
            process.kill()
            killed.append(process.pid)
    if killed:
        psutil.wait_procs(alive, timeout=wait_seconds)
        log.warning("killed browser processes left behind", extra={"pids": killed})
    return killed
