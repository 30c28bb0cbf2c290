"""How hard a portal may be pushed: pages at once per portal and per account, page loads per minute.

`Limits` lives as long as the engine, so two runs of the same portal in one process share the
limits (a scheduled run and a manual `run.py scrape` never double the load on a portal). Limits
across processes (procrastinate workers on PostgreSQL) are the worker's business.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from quaysync.config import PortalSource


class RateLimiter:
    """Spaces page loads evenly: at most `per_minute` a minute, no bursts (portals notice bursts)."""

    def __init__(self, per_minute: float) -> None:
        if per_minute <= 0:
            raise ValueError("per_minute must be positive")
        self.interval = 60.0 / per_minute
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def acquire(self) -> float:
        """Wait for the next slot; returns the seconds waited."""
        async with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self.interval
        delay = start - now
        if delay > 0:
            await asyncio.sleep(delay)
        return delay


class Limits:
    """Semaphores per portal and per (portal, account), and one rate limiter per portal."""

    def __init__(self) -> None:
        self._portals: dict[str, asyncio.Semaphore] = {}
        self._accounts: dict[tuple[str, str], asyncio.Semaphore] = {}
        self._rates: dict[str, tuple[float, RateLimiter]] = {}

    def portal(self, portal: PortalSource) -> asyncio.Semaphore:
        return self._portals.setdefault(portal.name, asyncio.Semaphore(portal.concurrency))

    def account(self, portal: PortalSource, username: str, concurrency: int) -> asyncio.Semaphore:
        return self._accounts.setdefault((portal.name, username), asyncio.Semaphore(concurrency))

    def rate(self, portal: PortalSource) -> RateLimiter | None:
        if portal.rate_limit_per_minute is None:
            self._rates.pop(portal.name, None)
            return None
        known = self._rates.get(portal.name)
        if known is None or known[0] != portal.rate_limit_per_minute:
            known = (portal.rate_limit_per_minute, RateLimiter(portal.rate_limit_per_minute))
            self._rates[portal.name] = known
        return known[1]

    @asynccontextmanager
    async def slot(self, portal: PortalSource, username: str, concurrency: int) -> AsyncIterator[None]:
        """Hold a page of this portal and of this account for the duration of a batch."""
        async with self.portal(portal), self.account(portal, username, concurrency):
            yield


def worker_plan(portal: PortalSource, usable_accounts: list[str]) -> list[str]:
    """Which account each worker (browser page) uses: round-robin up to the portal's concurrency.

    An account gets at most its own `concurrency` workers; the portal at most `concurrency` in all.
    """
    capacity = {account.username: account.concurrency for account in portal.accounts}
    plan: list[str] = []
    while len(plan) < portal.concurrency:
        added = False
        for username in usable_accounts:
            if len(plan) < portal.concurrency and plan.count(username) < capacity.get(username, 1):
                plan.append(username)
                added = True
        if not added:
            break
    return plan
