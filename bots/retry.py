"""Retries with backoff for portal trouble, and Playwright's exceptions in the error taxonomy.

Only `PortalError` (5xx, timeouts, hangs, disconnects, an expired session) is retried. Blocked
and layout-changed errors are never retried: retrying a CAPTCHA or a wrong password only hammers
the portal (and locks the account); retrying a redesigned page only stores nothing again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from quaysync.errors import PortalError
from quaysync.secrets import REDACTOR


class StopRequested(Exception):
    """The run was asked to stop; raised at a page boundary so the current page ends cleanly."""


def portal_error(error: BaseException, doing: str) -> PortalError:
    """A Playwright failure as the taxonomy's PortalError (message masked, first line only)."""
    first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
    if isinstance(error, PlaywrightTimeout):
        return PortalError(REDACTOR.mask(f"{doing}: timed out ({first_line})"))
    return PortalError(REDACTOR.mask(f"{doing}: browser error ({first_line})"))


def is_browser_failure(error: BaseException) -> bool:
    return isinstance(error, PlaywrightError)


@dataclass(frozen=True)
class RetryPolicy:
    """`retries` attempts after the first, exponential backoff with jitter between them."""

    retries: int = 3
    initial_seconds: float = 1.0
    max_seconds: float = 30.0

    def retrying(
        self,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        before_sleep: Callable[[RetryCallState], Awaitable[None] | None] | None = None,
    ) -> AsyncRetrying:
        return AsyncRetrying(
            stop=stop_after_attempt(self.retries + 1),
            wait=wait_exponential_jitter(
                multiplier=self.initial_seconds, max=self.max_seconds, jitter=self.initial_seconds
            ),
            retry=retry_if_exception(lambda error: isinstance(error, PortalError)),
            sleep=sleep,
            before_sleep=before_sleep,
            reraise=True,
        )


async def stoppable_sleep(seconds: float, should_stop: Callable[[], bool], tick: float = 0.05) -> None:
    """Sleep, but raise StopRequested as soon as the run is asked to stop."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        if should_stop():
            raise StopRequested
        remaining = deadline - loop.time()
        if remaining <= 0:
            return
        await asyncio.sleep(min(tick, remaining))
