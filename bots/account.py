"""One portal account in the browser: its context, its pages, its login, and its recycling.

- The context starts from the account's saved `storage_state`, so a warm run opens the portal
  without logging in. Only when the portal says the session is gone does it log in again: once
  for all the account's pages (a generation counter tells a page that another page already did).
- After `recycle_after_pages` page loads the context is drained (no new batch starts), its state
  saved, and it is closed; the next batch gets a fresh context from the saved state. Pages and
  renderer memory stay bounded in a long run.
- Tracing runs in chunks: a failure saves the chunk as the trace of its evidence; successes
  discard it every few batches.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from playwright.async_api import BrowserContext
from playwright.async_api import Error as PlaywrightError

from bots.browser import BrowserPool
from bots.families.base import PortalBot
from bots.masking import Masker
from bots.sessions import StateStore
from bots.tab import Hook, Loaded, Tab
from quaysync.config import PortalAccount, PortalSource
from quaysync.errors import BlockedError, SessionExpired
from quaysync.secrets import REDACTOR

log = logging.getLogger(__name__)

_TRACE_ROTATE_BATCHES = 5


class AccountSession:
    """The browser side of one account during a run (or across runs of an engine)."""

    def __init__(
        self,
        *,
        pool: BrowserPool,
        bot: PortalBot,
        portal: PortalSource,
        account: PortalAccount,
        states: StateStore,
        recycle_after_pages: int,
        before_load: Hook,
        trace: bool = True,
        on_loaded: Callable[[Loaded], None] | None = None,
        context_options: dict[str, object] | None = None,
    ) -> None:
        self.pool = pool
        self.bot = bot
        self.portal = portal
        self.account = account
        self.username = account.username
        self.states = states
        self.recycle_after_pages = recycle_after_pages
        self.trace_enabled = trace
        self._before_load = before_load
        self._on_loaded = on_loaded
        self._context_options = dict(context_options or {})
        self._password = account.password.get_secret_value()
        REDACTOR.register(self._password)

        self.context: BrowserContext | None = None
        self._tabs: dict[int, Tab] = {}
        self._context_lock = asyncio.Lock()
        self._login_lock = asyncio.Lock()
        self._trace_lock = asyncio.Lock()
        self._idle = asyncio.Condition()
        self._active = 0
        self._recycle_due = False
        self._batches_in_chunk = 0
        self._state_loaded = False

        self.generation = 0  # logins in this session; pages compare it to skip a redundant login
        self.logins = 0
        self.recycles = 0
        self.pages_before = 0  # pages of contexts already closed
        self.blocked: BlockedError | None = None
        self.worked = False  # at least one batch answered: a block recorded earlier is over

    # Context and pages ---------------------------------------------------------------------

    @property
    def pages(self) -> int:
        return self.pages_before + sum(tab.pages for tab in self._tabs.values())

    async def _ensure_context(self) -> BrowserContext:
        async with self._context_lock:
            if self.context is None:
                state = self.states.load(self.portal.name, self.username)
                self._state_loaded = state is not None
                self.context = await self.pool.new_context(
                    storage_state=state, accept_downloads=True, **self._context_options
                )
                if self.trace_enabled:
                    await self.context.tracing.start(screenshots=False, snapshots=True)
                    await self.context.tracing.start_chunk()
                    self._batches_in_chunk = 0
            return self.context

    async def tab(self, slot: int) -> Tab:
        """The page of worker `slot` (a new one after a recycle or a crash)."""
        tab = self._tabs.get(slot)
        if tab is not None and not tab.page.is_closed():
            return tab
        context = await self._ensure_context()
        try:
            page = await context.new_page()
        except PlaywrightError:
            # The browser went away (crash): start over with a new context from the saved state.
            await self._drop_context()
            context = await self._ensure_context()
            page = await context.new_page()
        tab = Tab(
            page,
            timeout_seconds=self.portal.timeout.total_seconds(),
            before_load=self._before_load,
            on_loaded=self._on_loaded,
            label=f"{self.username}#{slot}",
        )
        tab.seen_generation = self.generation
        self._tabs[slot] = tab
        self.pool.note_processes()
        return tab

    @asynccontextmanager
    async def batch(self) -> AsyncIterator[None]:
        """Hold the context for one batch; recycle it when due and no batch is running."""
        async with self._idle:
            await self._idle.wait_for(lambda: not self._recycle_due)
            self._active += 1
        try:
            yield
        finally:
            async with self._idle:
                self._active -= 1
                if self.context is not None and self.pages - self.pages_before >= self.recycle_after_pages:
                    self._recycle_due = True
                if self._recycle_due and self._active == 0:
                    await self._recycle()
                self._idle.notify_all()

    async def _recycle(self) -> None:
        log.info("recycling browser context", extra={"portal": self.portal.name, "account": self.username})
        await self.save_state()
        await self._drop_context()
        self.recycles += 1
        self._recycle_due = False

    async def _drop_context(self) -> None:
        self.pages_before += sum(tab.pages for tab in self._tabs.values())
        self._tabs.clear()
        context, self.context = self.context, None
        if context is not None:
            with contextlib.suppress(PlaywrightError):
                if self.trace_enabled:
                    await context.tracing.stop()
            with contextlib.suppress(PlaywrightError):
                await context.close()

    # Signing in ----------------------------------------------------------------------------

    async def ensure_ready(self, tab: Tab) -> None:
        """The tab signed in and on the portal's start page; logs in only when it must."""
        if tab.ready:
            return
        if tab.needs_login or not (self._state_loaded or self.generation):
            await self._sign_in(tab, tab.seen_generation)
            return
        seen = self.generation
        try:
            await self.bot.open(tab)
            tab.seen_generation = seen
        except SessionExpired:
            await self._sign_in(tab, seen)

    def session_gone(self, tab: Tab) -> None:
        """The portal said the session ended: this tab logs in (or follows a fresh login) next."""
        tab.ready = False
        tab.needs_login = True

    async def _sign_in(self, tab: Tab, seen_generation: int) -> None:
        async with self._login_lock:
            if self.blocked is not None:
                raise self.blocked  # another page of this account was just refused: never try twice
            if self.generation != seen_generation:
                await self.bot.open(tab)  # another page logged in meanwhile
            else:
                log.info("logging in", extra={"portal": self.portal.name, "account": self.username})
                try:
                    await self.bot.login(tab, self.username, self._password)
                except BlockedError as error:
                    self.blocked = error
                    raise
                self.generation += 1
                self.logins += 1
                await self.save_state()
            tab.seen_generation = self.generation
            tab.needs_login = False

    async def save_state(self) -> Path | None:
        if self.context is None:
            return None
        try:
            state = await self.context.storage_state()
        except PlaywrightError:
            return None
        return self.states.save(self.portal.name, self.username, dict(state))

    # Evidence ------------------------------------------------------------------------------

    async def masker(self) -> Masker:
        values: list[str] = [self._password]
        if self.context is not None:
            with contextlib.suppress(PlaywrightError):
                values += [cookie["value"] for cookie in await self.context.cookies() if cookie.get("value")]
        values += StateStore.cookie_values(self.states.load(self.portal.name, self.username))
        return Masker(values)

    async def save_trace(self, path: Path) -> bool:
        """Write the trace since the last chunk to `path` and start a new chunk."""
        if not self.trace_enabled or self.context is None:
            return False
        async with self._trace_lock:
            await self.context.tracing.stop_chunk(path=str(path))
            await self.context.tracing.start_chunk()
            self._batches_in_chunk = 0
        return True

    async def batch_succeeded(self) -> None:
        """Discard the trace of successful work now and then (memory stays bounded)."""
        if not self.trace_enabled or self.context is None:
            return
        self._batches_in_chunk += 1
        if self._batches_in_chunk < _TRACE_ROTATE_BATCHES:
            return
        async with self._trace_lock:
            with contextlib.suppress(PlaywrightError):
                await self.context.tracing.stop_chunk()
                await self.context.tracing.start_chunk()
            self._batches_in_chunk = 0

    async def close(self) -> None:
        """Save the session for the next run and close the context."""
        if self.context is not None:
            await self.save_state()
        await self._drop_context()
