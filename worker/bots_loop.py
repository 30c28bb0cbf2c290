"""The bots' engine on its own event loop thread: one Chromium kept across the worker's runs.

Scheduler threads call `scrape(...)` and wait for the run's result. At shutdown `close(grace)`:

1. the runs' stop events are already set: each run ends at its next page boundary (the page
   being read is finished, what was read is stored) and records itself as interrupted;
2. runs still going after `grace` seconds are cancelled: the page being loaded is abandoned,
   the run is recorded as interrupted all the same;
3. the browser is closed and any process it leaves behind is killed (bots.browser).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

from bots import BotEngine, ScrapeOptions, ScrapeResult
from bots.result import ProgressCallback
from bots.runner import StopSignal
from quaysync.config import Config, PortalSource
from store import Store

log = logging.getLogger(__name__)
T = TypeVar("T")


class BotLoop:
    def __init__(self, config: Config) -> None:
        self.config = config
        self._loop = asyncio.new_event_loop()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._thread = threading.Thread(target=self._loop.run_forever, name="bots-loop", daemon=True)
        self._thread.start()
        self.engine: BotEngine = self._call(self._make_engine(config))
        self._closed = False

    @staticmethod
    async def _make_engine(config: Config) -> BotEngine:
        return BotEngine(config)  # the browser is launched on first use

    def _call(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    async def _tracked(self, coroutine: Coroutine[Any, Any, T]) -> T:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            return await coroutine
        finally:
            self._tasks.discard(task)

    def scrape(
        self,
        portal: PortalSource,
        container_numbers: Sequence[str] | None = None,
        *,
        store: Store,
        trigger: str,
        stop_event: StopSignal,
        progress: ProgressCallback | None = None,
        options: ScrapeOptions | None = None,
        config: Config | None = None,
    ) -> ScrapeResult:
        """One recorded scrape on the shared browser; blocks until it is recorded (or cancelled:
        concurrent.futures.CancelledError, the run recorded as interrupted)."""
        if self._closed:
            raise RuntimeError("the bots' engine is closed")
        coroutine = self.engine.scrape(
            portal,
            container_numbers,
            store=store,
            trigger=trigger,
            progress=progress,
            stop_event=stop_event,
            options=options,
            config=config,
        )
        future = asyncio.run_coroutine_threadsafe(self._tracked(coroutine), self._loop)
        return future.result()

    @property
    def running_runs(self) -> int:
        return len(self._tasks)

    def browser_pids(self) -> list[int]:
        """The live browser (and driver) processes, for memory figures."""
        try:
            return list(self.engine.pool.process_ids())
        except RuntimeError:  # the set changed while read: try again next time
            return []

    async def _shutdown(self, grace: float, cancel_wait: float) -> None:
        tasks = set(self._tasks)
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=grace)
            if pending:
                log.warning("abandoning the page being loaded", extra={"runs": len(pending)})
                for task in pending:
                    task.cancel()
                await asyncio.wait(pending, timeout=cancel_wait)
        await self.engine.close()

    def close(self, grace: float = 3.0, cancel_wait: float = 2.0, close_wait: float = 8.0) -> None:
        """Stop the runs (see the module docstring), close the browser, end the loop thread."""
        if self._closed:
            return
        self._closed = True
        try:
            self._call(self._shutdown(grace, cancel_wait), timeout=grace + cancel_wait + close_wait)
        except Exception:
            log.exception("closing the browser failed; killing what it left")
            from bots.browser import launched_processes, reap

            reap(launched_processes(), wait_seconds=1.0)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
            if not self._thread.is_alive():
                with contextlib.suppress(RuntimeError):
                    self._loop.close()
