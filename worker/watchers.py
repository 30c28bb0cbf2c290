"""Mailbox watchers: a thread per watched mailbox, kept running while the worker runs.

A watcher (mailbox.watch_mailbox) reads the mailbox at once, then whenever the server announces
new mail (IMAP IDLE) and at the mailbox's schedule in any case; each pass is a recorded run. The
watcher holds its mailbox's lock for as long as it runs, so `run.py run-now mail:NAME` refuses
while the worker watches it.

`reconcile()` (called every few seconds by the worker) starts the watchers that should run and
stops those that should not: a paused mailbox, or one whose login was rejected (blocked until a
person runs `run.py resume mail:NAME`). A watcher that failed for another reason is started
again after a back-off.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from quaysync.config import Config, MailboxSource
from quaysync.errors import BlockedError
from store import Store
from store.locks import SourceBusy, SourceLocks
from store.runs import interrupt_running
from worker.control import blocked_entries, is_paused, record_mail_blocked
from worker.sources import SourceSpec

log = logging.getLogger(__name__)

RESTART_AFTER = 30.0  # seconds before a watcher that crashed is started again


@dataclass
class Watcher:
    spec: SourceSpec
    mailbox: MailboxSource
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    state: Any = None  # mailbox.WatchState
    failed_at: float | None = None
    last_error: str | None = None

    @property
    def alive(self) -> bool:
        return self.thread is not None and self.thread.is_alive()


class MailWatchers:
    def __init__(
        self,
        config: Config,
        store: Store,
        locks: SourceLocks,
        *,
        stopping: threading.Event,
        on_pass: Callable[[SourceSpec, Any], None] | None = None,
        on_blocked: Callable[[], None] | None = None,
        skip: Callable[[str, str], None] | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.locks = locks
        self.stopping = stopping
        self.on_pass = on_pass
        self.on_blocked = on_blocked
        self.skip = skip
        self.watchers: dict[str, Watcher] = {}
        self._lock = threading.Lock()

    def add(self, spec: SourceSpec) -> None:
        mailbox = next(item for item in self.config.sources.mailboxes if item.name == spec.name)
        self.watchers[spec.key] = Watcher(spec, mailbox)

    def should_run(self, watcher: Watcher) -> str | None:
        """None when the watcher should run, else why not."""
        if self.stopping.is_set():
            return "stopping"
        with self.store.session() as session:
            if is_paused(session, watcher.spec.key):
                return "paused"
            if blocked_entries(session, watcher.spec.key):
                return "blocked"
        if watcher.failed_at is not None and time.monotonic() - watcher.failed_at < RESTART_AFTER:
            return "backing off"
        return None

    def reconcile(self) -> None:
        with self._lock:
            for watcher in self.watchers.values():
                try:
                    self._reconcile(watcher)
                except Exception:
                    log.exception("mailbox watcher %s: reconcile failed", watcher.spec.key)

    def _reconcile(self, watcher: Watcher) -> None:
        reason = self.should_run(watcher)
        if reason is None and not watcher.alive:
            self._start(watcher)
        elif reason is not None and watcher.alive and not watcher.stop.is_set():
            log.info("stopping mailbox watcher %s: %s", watcher.spec.key, reason)
            watcher.stop.set()

    def _start(self, watcher: Watcher) -> None:
        try:
            held = self.locks.acquire(watcher.spec.key, note="watched")
        except SourceBusy as busy:
            log.info("mailbox %s not watched yet: %s", watcher.spec.key, busy)
            if self.skip is not None:
                self.skip(watcher.spec.key, "busy")
            return
        from mailbox import WatchState

        watcher.stop = threading.Event()
        watcher.state = WatchState()
        watcher.thread = threading.Thread(
            target=self._watch, args=(watcher, held), name=f"watch-{watcher.spec.name}", daemon=True
        )
        watcher.thread.start()
        log.info("watching mailbox %s", watcher.spec.key)

    def _watch(self, watcher: Watcher, held: Any) -> None:
        from mailbox import watch_mailbox

        def passed(result: Any) -> None:
            if self.on_pass is not None:
                self.on_pass(watcher.spec, result)

        try:
            watch_mailbox(
                self.config, watcher.mailbox, self.store, watcher.stop, on_pass=passed, state=watcher.state
            )
            watcher.failed_at = None
        except BlockedError as error:
            last = watcher.state.last if watcher.state is not None else None
            with self.store.session() as session:
                record_mail_blocked(
                    session,
                    watcher.mailbox.name,
                    watcher.mailbox.username,
                    error,
                    run_id=getattr(last, "run_id", None),
                )
            log.warning("mailbox %s blocked: %s", watcher.spec.key, error.message)
            if self.on_blocked is not None:
                self.on_blocked()
        except Exception as error:
            watcher.failed_at = time.monotonic()
            watcher.last_error = f"{type(error).__name__}: {error}"
            log.exception(
                "mailbox watcher %s failed; starting again in %.0f s", watcher.spec.key, RESTART_AFTER
            )
        finally:
            try:
                with self.store.session() as session:
                    interrupt_running(session, watcher.spec.key)  # a pass cut short (stopping)
            except Exception:
                log.exception("mailbox watcher %s: recording its end failed", watcher.spec.key)
            self.locks.release(held)

    def running(self) -> list[str]:
        return [key for key, watcher in self.watchers.items() if watcher.alive]

    def stop_all(self, timeout: float) -> list[str]:
        """Stop every watcher; the keys of those still running after `timeout` seconds."""
        for watcher in self.watchers.values():
            watcher.stop.set()
        deadline = time.monotonic() + timeout
        for watcher in self.watchers.values():
            if watcher.thread is not None:
                watcher.thread.join(max(deadline - time.monotonic(), 0.0))
        return self.running()
