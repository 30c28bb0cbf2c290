"""One scrape run of one portal: batches over account pages, failures by the taxonomy, one run record.

    containers → batches (the family's max, config `batch_size` may lower it)
               → workers: one browser page each, round-robin over the usable accounts, within the
                 portal's and each account's concurrency
               → per batch: sign in if needed → search → parse → ingest (one transaction, run id)

How failures end (the design's failure model):
- business (unknown / invalid number): the parser's "not found" observation, recorded by ingest;
- portal (5xx, timeout, hang, expired session): retried with backoff, re-login on expiry; after
  the retries the batch's containers are listed as failed with the reason and evidence;
- blocked (CAPTCHA, locked, wrong password, maintenance): that account stops at once (maintenance
  stops the run), its batch goes back to the queue for other accounts, a `source_state` entry
  tells later runs and people; no retries;
- layout changed: nothing of that page is stored and the run stops (every page would fail alike).
Every failure leaves evidence (bots.evidence). Every container asked ends stored, not found, or
listed as failed with a reason.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from playwright.async_api import Error as PlaywrightError

from bots import blocked as blocked_state
from bots.account import AccountSession
from bots.evidence import Evidence
from bots.families import Capture, bot_class
from bots.families.base import BatchTooLarge
from bots.ledger import Ledger, WorkItem
from bots.limits import worker_plan
from bots.result import ProgressCallback, ScrapeOptions, ScrapeProgress, ScrapeResult
from bots.retry import RetryPolicy, StopRequested, portal_error, stoppable_sleep
from bots.sessions import StateStore
from bots.tab import Tab
from bots.targets import active_containers, batches, clean_numbers
from parsers.portals import parse_page
from quaysync.config import Config, PortalSource
from quaysync.errors import (
    BadInputError,
    BlockedError,
    LayoutChangedError,
    MaintenanceWindow,
    PortalError,
    SessionExpired,
)
from quaysync.model import Observation, ParseContext
from quaysync.secrets import REDACTOR
from store import Store
from store.runs import finish_run, start_run
from sync import ingest
from sync.pipeline import build_ingest_settings

if TYPE_CHECKING:
    from bots.engine import BotEngine

log = logging.getLogger(__name__)


class StopSignal(Protocol):
    def is_set(self) -> bool: ...


class ScrapeRun:
    """The state of one run; `run()` does it and returns the result (recorded in the store)."""

    def __init__(
        self,
        engine: BotEngine,
        config: Config,
        portal: PortalSource,
        container_numbers: Sequence[str] | None,
        *,
        store: Store,
        trigger: str,
        progress: ProgressCallback | None,
        stop_event: StopSignal | None,
        options: ScrapeOptions,
    ) -> None:
        self.engine = engine
        self.config = config
        self.portal = portal
        self.store = store
        self.trigger = trigger
        self.progress = progress
        self.stop_event = stop_event
        self.options = options
        self.source = blocked_state.source_name(portal.name)
        self.bot = bot_class(portal.family)(portal, options.mode)
        self.numbers = None if container_numbers is None else clean_numbers(list(container_numbers))
        self.batch_size = min(self.bot.max_batch, portal.batch_size or self.bot.max_batch)
        self.retry = RetryPolicy(portal.retries, options.backoff_initial_seconds, options.backoff_max_seconds)
        self.settings = build_ingest_settings(config, portal.time_zone)
        self.states = StateStore(config.data_path)

        self.run_id = 0
        self.queue: deque[WorkItem] = deque()
        self.in_flight: dict[int, WorkItem] = {}
        self.sessions: dict[str, AccountSession] = {}
        self.result: ScrapeResult | None = None
        self.ledger = Ledger()
        self.blocked_now: dict[str, tuple[BlockedError, list[str]]] = {}
        self.layout_changed: LayoutChangedError | None = None
        self.halt_reason: str | None = None
        self.interrupted = False
        self.retries = 0
        # Pages are read while earlier batches are being stored: one ingest at a time (one writer),
        # a few batches waiting at most (memory stays bounded, pages slow down when storing lags).
        self._to_store: asyncio.Queue[tuple[WorkItem, list[Observation]] | None] | None = None
        self._unstored: list[WorkItem] = []

    # Stop requests ---------------------------------------------------------------------------

    def stop_requested(self) -> bool:
        return self.stop_event is not None and self.stop_event.is_set()

    async def before_load(self) -> None:
        """Before every page load: stop here if asked (the previous page is complete), pace the portal."""
        if self.stop_requested() or self.halt_reason:
            raise StopRequested
        limiter = self.engine.limits.rate(self.portal)
        if limiter is not None:
            await limiter.acquire()

    # The run ---------------------------------------------------------------------------------

    async def run(self) -> ScrapeResult:
        numbers = self.numbers if self.numbers is not None else active_containers(self.store)
        self.numbers = numbers
        with self.store.session() as session:
            self.run_id = start_run(session, self.source, "scrape", self.trigger)
            already_blocked = blocked_state.blocked_accounts(session, self.portal.name)
        self.evidence = Evidence(self.config.data_path, self.run_id, self.options.full_evidence)
        self.queue.extend(WorkItem(batch) for batch in batches(numbers, self.batch_size))
        if self.options.include_vessels and self.bot.has_vessels:
            self.queue.append(WorkItem())
        usable = [
            account.username
            for account in self.portal.accounts
            if self.options.retry_blocked or account.username not in already_blocked
        ]
        self.skipped_blocked = {name: already_blocked[name] for name in already_blocked if name not in usable}
        log.info(
            "scrape started",
            extra={"portal": self.portal.name, "run_id": self.run_id, "containers": len(numbers)},
        )
        self._report("started")
        try:
            plan = worker_plan(self.portal, usable)
            for username in dict.fromkeys(plan):
                account = next(a for a in self.portal.accounts if a.username == username)
                self.sessions[username] = AccountSession(
                    pool=self.engine.pool,
                    bot=self.bot,
                    portal=self.portal,
                    account=account,
                    states=self.states,
                    recycle_after_pages=self.config.browser.recycle_after_pages,
                    before_load=self.before_load,
                    trace=self.options.trace,
                )
            self._to_store = asyncio.Queue(maxsize=max(2, len(plan)))
            storing = asyncio.create_task(self._storer())
            try:
                await asyncio.gather(
                    *(self._worker(slot, self.sessions[name]) for slot, name in enumerate(plan))
                )
                await self._to_store.put(None)
                await storing
            finally:
                if not storing.done():
                    storing.cancel()
                    await asyncio.gather(storing, return_exceptions=True)
        except asyncio.CancelledError:
            self.interrupted = True
            raise
        finally:
            await self._finish()
        assert self.result is not None
        return self.result

    # Workers ---------------------------------------------------------------------------------

    def _must_stop(self, session: AccountSession) -> bool:
        if self.stop_requested():
            self.interrupted = True
        return self.interrupted or self.halt_reason is not None or session.blocked is not None

    async def _next(self, slot: int, session: AccountSession) -> WorkItem | None:
        """The next item, waiting while other pages may still hand one back (a blocked account)."""
        while not self._must_stop(session):
            if self.queue:
                item = self.queue.popleft()
                self.in_flight[slot] = item
                return item
            if not self.in_flight:
                return None
            await asyncio.sleep(0.05)
        return None

    async def _worker(self, slot: int, session: AccountSession) -> None:
        while (item := await self._next(slot, session)) is not None:
            try:
                limit = self.engine.limits.slot(self.portal, session.username, session.account.concurrency)
                async with limit, session.batch():
                    await self._item(slot, session, item)
            except StopRequested:
                if not item.done:
                    self.queue.appendleft(item)
                if self.stop_requested():
                    self.interrupted = True
            except asyncio.CancelledError:
                if not item.done:
                    self.queue.appendleft(item)
                raise
            except Exception as error:  # recycling a context failed (the browser died): go on
                log.exception("browser trouble between batches", extra={"portal": self.portal.name})
                if not item.done:
                    self.ledger.fail(item, "portal", REDACTOR.mask(f"browser trouble: {error}"), [])
            finally:
                self.in_flight.pop(slot, None)
            self._report(item.label)

    async def _item(self, slot: int, session: AccountSession, item: WorkItem) -> None:
        tab: Tab | None = None
        try:
            tab = await session.tab(slot)
            observations = await self._fetch_with_retries(session, tab, item)
        except BatchTooLarge:
            middle = max(1, len(item.containers) // 2)
            self.queue.extendleft([WorkItem(item.containers[middle:]), WorkItem(item.containers[:middle])])
            self.batch_size = middle
            item.done = True
            return
        except BlockedError as error:
            await self._blocked(session, tab, item, error)
            return
        except LayoutChangedError as error:
            evidence = await self._capture(session, tab, "layout-changed", trace=True)
            self.layout_changed = self.layout_changed or error
            self.halt_reason = f"the portal's layout changed: {error.message}"
            self.ledger.fail(item, "layout_changed", error.message, evidence)
            return
        except PortalError as error:
            evidence = await self._capture(session, tab, f"failed-{item.label}", trace=True)
            self.ledger.fail(
                item, "portal", f"{error.message} (after {self.portal.retries} retries)", evidence
            )
            return
        except (StopRequested, asyncio.CancelledError):
            raise
        except Exception as error:  # a bug or a browser crash must not take the other batches down
            log.exception("unexpected failure of a batch", extra={"portal": self.portal.name})
            evidence = await self._capture(session, tab, f"crash-{item.label}", trace=True)
            self.ledger.fail(
                item, "portal", REDACTOR.mask(f"unexpected {type(error).__name__}: {error}"), evidence
            )
            return
        item.done = True
        self._unstored.append(item)
        assert self._to_store is not None
        await self._to_store.put((item, observations))
        session.worked = True
        await session.batch_succeeded()

    async def _fetch_with_retries(
        self, session: AccountSession, tab: Tab, item: WorkItem
    ) -> list[Observation]:
        async def before_sleep(_state: object) -> None:
            self.retries += 1

        async def sleep(seconds: float) -> None:
            await stoppable_sleep(seconds, lambda: self.stop_requested() or self.halt_reason is not None)

        async for attempt in self.retry.retrying(sleep=sleep, before_sleep=before_sleep):
            with attempt:
                try:
                    await session.ensure_ready(tab)
                    captures = await self._fetch(tab, item)
                    return [observation for capture in captures for observation in self._parse(capture)]
                except SessionExpired as error:
                    session.session_gone(tab)
                    await self._capture(session, tab, "session-expired", trace=False)
                    log.info("session expired", extra={"portal": self.portal.name, "error": error.message})
                    raise
                except PortalError as error:
                    tab.ready = False
                    await self._capture(session, tab, "portal-error", trace=False)
                    log.info(
                        "portal error, retrying", extra={"portal": self.portal.name, "error": error.message}
                    )
                    raise
                except PlaywrightError as error:  # a page closed under us, a crashed renderer
                    tab.ready = False
                    raise portal_error(error, "driving the browser") from None
        raise AssertionError("unreachable: tenacity re-raises the last error")

    async def _fetch(self, tab: Tab, item: WorkItem) -> list[Capture]:
        if item.is_vessels:
            capture = await self.bot.vessels(tab)
            return [capture] if capture is not None else []
        captures = await self.bot.search(tab, item.containers)
        if self.options.details:
            found = {
                observation.container_number
                for capture in captures
                for observation in self._parse(capture)
                if "not_found" not in observation.fields
            }
            for number in item.containers:
                if number in found:
                    detail = await self.bot.detail(tab, number)
                    if detail is not None:
                        captures.append(detail)
        return captures

    def _parse(self, capture: Capture) -> list[Observation]:
        context = ParseContext(
            source=self.source,
            source_ref=capture.url if not capture.filename else f"{capture.url}#{capture.filename}",
            observed_at=datetime.now(UTC),
            time_zone=self.portal.time_zone,
        )
        try:
            return parse_page(self.portal.family, capture.page, capture.content, context)
        except BadInputError as error:
            raise PortalError(f"the portal's {capture.page} answer is unreadable: {error.message}") from None

    # Outcomes of an item ---------------------------------------------------------------------

    async def _storer(self) -> None:
        """Store what the pages read, batch after batch, while the pages read on."""
        assert self._to_store is not None
        while (entry := await self._to_store.get()) is not None:
            item, observations = entry
            await self._store(item, observations)
            self._unstored.remove(item)
            self._report(f"stored {item.label}")

    async def _store(self, item: WorkItem, observations: list[Observation]) -> None:
        """Ingest one item's observations in one transaction; sort its containers into the ledger."""
        try:
            report = await asyncio.to_thread(self._ingest, observations)
        except Exception as error:  # the store is down or refused the batch: nothing of it is stored
            message = REDACTOR.mask(f"storing the batch failed: {type(error).__name__}: {error}")
            log.error("ingest failed", extra={"portal": self.portal.name, "error": message})
            self.ledger.fail(item, "store", message, [])
            return
        self.ledger.stored_batch(item, observations, report.as_counts())

    def _ingest(self, observations: list[Observation]) -> Any:
        with self.store.session() as session:
            return ingest(session, observations, settings=self.settings, run_id=self.run_id)

    async def _blocked(
        self, session: AccountSession, tab: Tab | None, item: WorkItem, error: BlockedError
    ) -> None:
        session.blocked = error
        evidence = await self._capture(session, tab, f"blocked-{type(error).__name__}", trace=True)
        self.blocked_now[session.username] = (error, evidence)
        self.queue.appendleft(item)  # another account may still take it
        if isinstance(error, MaintenanceWindow):
            self.halt_reason = f"the portal is in maintenance: {error.message}"
        log.warning(
            "account blocked",
            extra={"portal": self.portal.name, "account": session.username, "error": error.message},
        )

    async def _capture(
        self, session: AccountSession, tab: Tab | None, label: str, *, trace: bool
    ) -> list[str]:
        try:
            saved = await self.evidence.capture(
                tab,
                account=session.username,
                label=label,
                masker=await session.masker(),
                trace=session.save_trace if trace else None,
            )
        except (OSError, PlaywrightError) as error:  # evidence must never end a run
            log.warning("evidence not saved", extra={"portal": self.portal.name, "error": str(error)})
            return []
        return list(saved.values())

    # Progress and the end --------------------------------------------------------------------

    def _counts(self) -> dict[str, int]:
        sessions = self.sessions.values()
        return {
            "containers": len(self.numbers or []),
            **self.ledger.counts(),
            "pages": sum(session.pages for session in sessions),
            "logins": sum(session.logins for session in sessions),
            "retries": self.retries,
            "recycles": sum(session.recycles for session in sessions),
            "batch_size": self.batch_size,
            **self.ledger.ingested,
        }

    def _report(self, message: str) -> None:
        if self.progress is None:
            return
        counts = self._counts()
        try:
            self.progress(
                ScrapeProgress(
                    portal=self.portal.name,
                    run_id=self.run_id,
                    total=counts["containers"],
                    done=counts["stored"] + counts["not_found"] + counts["failed"],
                    stored=counts["stored"],
                    not_found=counts["not_found"],
                    failed=counts["failed"],
                    pages=counts["pages"],
                    logins=counts["logins"],
                    message=message,
                )
            )
        except Exception:  # a progress display must never break a run
            log.exception("progress callback failed")

    def _not_tried_reason(self) -> tuple[str, str]:
        if self.interrupted:
            return "interrupted", "not tried: the run was interrupted"
        if self.halt_reason:
            return ("layout_changed" if self.layout_changed else "blocked"), f"not tried: {self.halt_reason}"
        blocked = {name: str(value.get("action")) for name, value in self.skipped_blocked.items()}
        for name, (error, _evidence) in self.blocked_now.items():
            blocked[name] = blocked_state.describe(error, self.portal.name, name)[1]
        if blocked:
            accounts = "; ".join(f"{name}: {action}" for name, action in blocked.items())
            return "blocked", f"not tried: every account is blocked ({accounts})"
        return "portal", "not tried"

    async def _finish(self) -> None:
        for session in self.sessions.values():
            try:
                await session.close()
            except Exception:
                log.exception("closing a browser context failed")
        leftovers = [item for item in self.in_flight.values() if not item.done] + list(self.queue)
        leftovers += self._unstored  # read, but the run was cancelled before they were stored
        self._unstored = []
        if leftovers:
            kind, reason = self._not_tried_reason()
            for item in leftovers:
                self.ledger.fail(item, kind, reason, [])
        self.in_flight.clear()
        self.queue.clear()
        now = datetime.now(UTC)
        blocked_values: dict[str, dict[str, Any]] = {}
        with self.store.session() as session:
            for username, (error, evidence) in self.blocked_now.items():
                value = blocked_state.record_blocked(
                    session, self.portal.name, username, error, run_id=self.run_id, evidence=evidence, now=now
                )
                blocked_values[username] = value
                self.ledger.blocked(username, error.message, value["action"], evidence)
            for username, value in self.skipped_blocked.items():
                blocked_values[username] = value
                self.ledger.blocked(
                    username,
                    f"skipped: blocked since {value.get('since')} ({value.get('reason')})",
                    str(value.get("action")),
                    list(value.get("evidence") or []),
                )
            for username, account_session in self.sessions.items():
                if account_session.worked and username not in self.blocked_now:
                    blocked_state.clear_blocked(session, self.portal.name, username)
            errors = self.ledger.errors(self.layout_changed.message if self.layout_changed else None)
            outcome = self.ledger.outcome(
                interrupted=self.interrupted,
                layout_changed=self.layout_changed is not None,
                blocked=bool(self.blocked_now or self.skipped_blocked),
            )
            counts = self._counts()
            finish_run(session, self.run_id, outcome, counts, errors, self.evidence.paths)
        self.result = ScrapeResult(
            run_id=self.run_id,
            portal=self.portal.name,
            outcome=outcome,
            counts=counts,
            errors=errors,
            evidence=list(self.evidence.paths),
            stored=self.ledger.stored,
            not_found=self.ledger.not_found,
            failed=self.ledger.failed,
            blocked=blocked_values,
        )
        log.info(
            "scrape finished",
            extra={"portal": self.portal.name, "run_id": self.run_id, "outcome": outcome, "counts": counts},
        )
        self._report(outcome)


__all__ = ["ScrapeRun", "StopSignal"]
