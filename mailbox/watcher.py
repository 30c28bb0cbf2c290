"""Watching a mailbox for as long as the worker runs: a pass now, then on each wake-up.

Where the server has IDLE (and the mailbox allows it), the watcher idles in the first folder and
takes the server's "new mail" as a hint to look: it always SEARCHes after waking, after
(re)connecting, and at the mailbox's schedule in any case. Without IDLE it polls on the schedule.
Disconnects are retried with backoff; a rejected login stops the watcher (a person must act).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from mailbox.imap import ConnectionLost, ImapOptions, ImapRefused
from mailbox.poller import MailPoller
from mailbox.result import PollResult
from quaysync.config import Config, MailboxSource
from quaysync.config.types import Schedule
from quaysync.errors import BlockedError
from store import Store

log = logging.getLogger(__name__)

PassCallback = Callable[[PollResult], None]


@dataclass
class WatchState:
    """What a running watcher is doing, for the worker's health view (and tests)."""

    idling: threading.Event = field(default_factory=threading.Event)  # set while IDLE waits for mail
    passes: int = 0
    last: PollResult | None = None


def seconds_until_next(schedule: Schedule, now: datetime | None = None) -> float:
    """Seconds from `now` to the schedule's next tick (an interval, or a cron expression in UTC)."""
    if schedule.interval is not None:
        return max(schedule.interval.total_seconds(), 1.0)
    from apscheduler.triggers.cron import CronTrigger

    now = now or datetime.now(UTC)
    assert schedule.cron is not None
    upcoming = CronTrigger.from_crontab(schedule.cron, timezone=UTC).get_next_fire_time(None, now)
    if upcoming is None:
        return 3600.0
    return max((upcoming - now).total_seconds(), 1.0)


def watch_mailbox(
    config: Config,
    mailbox: MailboxSource,
    store: Store,
    stop_event: threading.Event,
    *,
    options: ImapOptions | None = None,
    on_pass: PassCallback | None = None,
    state: WatchState | None = None,
) -> None:
    """Keep `mailbox` read until `stop_event` is set. Each pass is a recorded run.

    Returns when stopped. Raises the BlockedError (after recording the pass as blocked) when
    the server rejects the login: retrying would only lock the account.
    """
    poller = MailPoller(config, mailbox, store, options=options, sleep=_stoppable_sleep(stop_event))
    state = state or WatchState()
    trigger = "startup"
    try:
        while not stop_event.is_set():
            result = poller.poll(trigger)
            state.passes += 1
            state.last = result
            if on_pass is not None:
                on_pass(result)
            if result.outcome == "blocked":
                raise BlockedError(result.errors[-1]["message"] if result.errors else "login rejected")
            if stop_event.is_set():
                return
            trigger = _wait_for_mail(poller, mailbox, stop_event, state)
            if trigger is None:
                return
    finally:
        poller.close()


def _wait_for_mail(
    poller: MailPoller, mailbox: MailboxSource, stop_event: threading.Event, state: WatchState
) -> str | None:
    """Until the next pass is due; why it is: "idle" (the server announced mail), "arrived" (mail
    came after the pass looked), "schedule", "reconnect" — or None when stopped."""
    wait = seconds_until_next(mailbox.schedule)
    session = poller.session
    if mailbox.idle and session is not None and not session.closed and session.has_idle:
        folder = mailbox.folders[0]
        try:
            status = session.select(folder)
            seen = poller.uid_next_seen.get(folder)
            if seen is not None and status.uid_next is not None and status.uid_next > seen:
                return "arrived"  # after the pass looked: IDLE would not announce it
            return session.idle_wait(stop_event, wait, state.idling)
        except (ConnectionLost, ImapRefused) as error:
            log.warning("mailbox %s: IDLE ended: %s; searching again", mailbox.name, error.message)
            poller.drop()
            return None if stop_event.is_set() else "reconnect"
    if session is None or session.closed:
        # The last pass could not connect: try again sooner than the schedule, but not at once.
        wait = min(wait, max(poller.options.backoff_max, 1.0))
    if stop_event.wait(wait):
        return None
    return "schedule"


def _stoppable_sleep(stop_event: threading.Event) -> Callable[[float], None]:
    def sleep(seconds: float) -> None:
        if stop_event.wait(seconds):
            raise ConnectionLost("stopped while waiting to reconnect")

    return sleep
