"""The bots' public entry points: one-off scrapes, and a long-lived engine for a worker process.

    result = await scrape_portal(config, portal, ["MSKU1234565"], store=store)      # asyncio
    result = scrape_portal_sync(config, portal, None, store=store)                  # plain code

    async with BotEngine(config) as engine:           # one Chromium kept across runs (recycled)
        result = await engine.scrape(portal, None, store=store, trigger="schedule")

    engine = EngineThread(config)                      # the same, for threaded callers (APScheduler)
    result = engine.scrape(portal, None, store=store, stop_event=threading.Event())
    engine.close()

`container_numbers=None` scrapes the store's active containers. Cancellation: set `stop_event`
(anything with `is_set()`: a threading.Event or an asyncio.Event) and the run stops at the next
page boundary — the page being loaded is finished, a batch whose pages are all in is still
stored, the rest is listed as "not tried" — the contexts are closed and the run is recorded as
interrupted. Cancelling the task (`task.cancel()`, Ctrl-C under `asyncio.run`) abandons the page
being loaded instead, with the same recording. Either way the browser is closed by whoever owns
it (the one-off functions close their own; an engine closes on `close()`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

from bots.browser import BrowserPool
from bots.limits import Limits
from bots.result import ProgressCallback, ScrapeOptions, ScrapeResult
from bots.runner import ScrapeRun, StopSignal
from quaysync.aio import run_sync
from quaysync.config import Config, PortalSource
from store import Store

T = TypeVar("T")


class BotEngine:
    """One browser pool, the limits and the session files: everything that outlives a run."""

    def __init__(self, config: Config, *, pool: BrowserPool | None = None) -> None:
        self.config = config
        self.pool = pool or BrowserPool(config.browser)
        self.limits = Limits()
        self._runs = 0

    async def scrape(
        self,
        portal: PortalSource,
        container_numbers: Sequence[str] | None = None,
        *,
        store: Store,
        trigger: str = "manual",
        progress: ProgressCallback | None = None,
        stop_event: StopSignal | None = None,
        options: ScrapeOptions | None = None,
        config: Config | None = None,
    ) -> ScrapeResult:
        """Scrape `portal` now; see the module docstring for cancellation. `config` replaces the
        engine's for this run (a worker that reloaded config.yaml keeps its browser)."""
        self._runs += 1
        try:
            run = ScrapeRun(
                self,
                config or self.config,
                portal,
                container_numbers,
                store=store,
                trigger=trigger,
                progress=progress,
                stop_event=stop_event,
                options=options or ScrapeOptions(),
            )
            return await run.run()
        finally:
            self._runs -= 1

    @property
    def busy(self) -> bool:
        return self._runs > 0

    async def close(self) -> None:
        await self.pool.close()

    async def __aenter__(self) -> BotEngine:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()


async def scrape_portal(
    config: Config,
    portal: PortalSource,
    container_numbers: Sequence[str] | None = None,
    *,
    store: Store,
    trigger: str = "manual",
    progress: ProgressCallback | None = None,
    stop_event: StopSignal | None = None,
    options: ScrapeOptions | None = None,
    engine: BotEngine | None = None,
) -> ScrapeResult:
    """One scrape run of `portal`, recorded in `store.runs`. Launches (and closes) a browser
    unless an `engine` is given."""
    if engine is not None:
        return await engine.scrape(
            portal,
            container_numbers,
            store=store,
            trigger=trigger,
            progress=progress,
            stop_event=stop_event,
            options=options,
        )
    async with BotEngine(config) as own:
        return await own.scrape(
            portal,
            container_numbers,
            store=store,
            trigger=trigger,
            progress=progress,
            stop_event=stop_event,
            options=options,
        )


def scrape_portal_sync(
    config: Config,
    portal: PortalSource,
    container_numbers: Sequence[str] | None = None,
    *,
    store: Store,
    trigger: str = "manual",
    progress: ProgressCallback | None = None,
    stop_event: StopSignal | None = None,
    options: ScrapeOptions | None = None,
    engine: EngineThread | None = None,
) -> ScrapeResult:
    """`scrape_portal` for code without an event loop (pass an EngineThread to reuse its browser)."""
    if engine is not None:
        return engine.scrape(
            portal,
            container_numbers,
            store=store,
            trigger=trigger,
            progress=progress,
            stop_event=stop_event,
            options=options,
        )
    return run_sync(
        scrape_portal(
            config,
            portal,
            container_numbers,
            store=store,
            trigger=trigger,
            progress=progress,
            stop_event=stop_event,
            options=options,
        )
    )


class EngineThread:
    """A BotEngine on its own event loop thread, for callers that are threads (schedulers, tests).

    Runs submitted from several threads share the one browser and the limits; each call blocks
    until its run is recorded. `close()` stops the browser and the thread.
    """

    def __init__(self, config: Config, *, pool: BrowserPool | None = None) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="bot-engine", daemon=True)
        self._thread.start()
        self.engine: BotEngine = self.call(self._make(config, pool))

    @staticmethod
    async def _make(config: Config, pool: BrowserPool | None) -> BotEngine:
        return BotEngine(config, pool=pool)

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run a coroutine on the engine's loop and wait for its result."""
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        try:
            return future.result(timeout)
        except (KeyboardInterrupt, concurrent.futures.TimeoutError):
            future.cancel()  # the run records itself as interrupted
            raise

    def scrape(
        self,
        portal: PortalSource,
        container_numbers: Sequence[str] | None = None,
        *,
        store: Store,
        trigger: str = "manual",
        progress: ProgressCallback | None = None,
        stop_event: StopSignal | None = None,
        options: ScrapeOptions | None = None,
        config: Config | None = None,
    ) -> ScrapeResult:
        return self.call(
            self.engine.scrape(
                portal,
                container_numbers,
                store=store,
                trigger=trigger,
                progress=progress,
                stop_event=stop_event,
                options=options,
                config=config,
            )
        )

    def close(self) -> None:
        if not self._thread.is_alive():
            return
        try:
            self.call(self.engine.close(), timeout=60)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(30)
            self._loop.close()

    def __enter__(self) -> EngineThread:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
