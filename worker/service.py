"""The main job (`run.py run`): the scheduler and the query layer in one process.

Threads of a running worker:

    main                 waits for SIGTERM / SIGINT, then `stop()`
    APScheduler          the scheduler's loop; jobs run on its thread pool ("worker-N"):
                           portal:NAME / import:NAME / export:NAME / mail:NAME (non-IDLE mailboxes)
                           rules (every minute: evaluate_all — lights, tracking stale/active, alerts)
                           outbox (every 10 s: deliver notifications, customer messages, webhooks)
                           housekeeping (every 5 s: mailbox watchers up or down, lock leases)
    bots-loop            the bots' asyncio loop: one Chromium shared by every portal run
    watch-NAME           one per IDLE mailbox (mailbox.watch_mailbox), its own IMAP connection
    api                  uvicorn serving api.app.create_app(...) + /health + /metrics
    sandbox-*            with `sandbox.enabled`: the sandbox portal, IMAP server, mail seeder, SMTP sink

Shutdown (`stop()`, at most ~10 s): the stop event is set (portal runs end at their next page
boundary, watchers leave IDLE), the scheduler takes no new ticks, runs still going after a grace
period are cancelled (the page being loaded is abandoned), the browser is closed and whatever it
left is killed, runs still marked running by this process are recorded as interrupted, the API
and the sandbox stop. A watchdog ends the process at the deadline whatever happens.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from quaysync.config import Config
from store import RunRow, Store
from store.locks import SourceBusy, SourceLocks, drop_dead_locks, live_holders
from store.runs import interrupt_running
from worker import jobs
from worker.control import blocked_entries, is_paused
from worker.metrics import WorkerMetrics
from worker.runner import RunOutcome, SourceRunner
from worker.scheduler import (
    CLOCK_STORE,
    FIRST_RUN_DELAY,
    build_scheduler,
    job_times,
    sync_source_jobs,
)
from worker.sources import SourceSpec, configured_sources
from worker.watchers import MailWatchers

log = logging.getLogger(__name__)

SHUTDOWN_DEADLINE = 9.0  # seconds from the stop request to a forced exit
RUN_GRACE = 3.0  # seconds a run gets to reach its next page boundary before it is cancelled


class Worker:
    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        serve_api: bool = True,
        with_sandbox: bool | None = None,
        first_run_delay: timedelta = FIRST_RUN_DELAY,
        rules_every: float = 60.0,
        outbox_every: float = 10.0,
        housekeeping_every: float = 5.0,
    ) -> None:
        self.config = config
        self.store = store
        self.serve_api = serve_api and config.api.enabled
        self.with_sandbox = config.sandbox.enabled if with_sandbox is None else with_sandbox
        self.first_run_delay = first_run_delay
        self.intervals = {"rules": rules_every, "outbox": outbox_every, "housekeeping": housekeeping_every}
        self.stopping = threading.Event()
        self._stop_requested_at: float | None = None
        self.stopped = threading.Event()
        self.specs = {spec.key: spec for spec in configured_sources(config)}
        self.locks = SourceLocks(store, "worker")
        self.bots: Any = None  # worker.bots_loop.BotLoop, when a portal is enabled
        self.metrics = WorkerMetrics(
            store, scheduler_alive=self.scheduler_alive, browser_pids=self.browser_pids
        )
        self.runner = SourceRunner(config, store, stop_event=self.stopping, metrics=self.metrics)
        self.watchers = MailWatchers(
            config,
            store,
            self.locks,
            stopping=self.stopping,
            on_pass=self._mail_pass,
            on_blocked=self.runner.evaluate_sources,
            skip=self.metrics.skip,
        )
        self.scheduler: Any = None
        self.sandbox: Any = None
        self.server: Any = None
        self._server_thread: threading.Thread | None = None
        self._event_sender: Any = None
        self._running: dict[str, datetime] = {}  # source → when its current run started
        self._last_renew = 0.0
        self.started_at: datetime | None = None
        self.job_changes: dict[str, str] = {}

    # -- start ------------------------------------------------------------------------------

    def start(self) -> None:
        """Start everything (sandbox first, the API last). Raises ConfigError on a bad setup."""
        from mailbox import check_routes
        from sync.rules.checks import check_config

        check_config(self.config)
        check_routes(self.config)
        self.started_at = datetime.now(UTC)
        self._recover()
        try:
            if self.with_sandbox:
                from worker.sandbox_env import SandboxEnvironment

                self.sandbox = SandboxEnvironment(self.config)
                self.sandbox.start()
            if any(spec.kind == "portal" and spec.enabled for spec in self.specs.values()):
                from worker.bots_loop import BotLoop

                self.bots = BotLoop(self.config)
                self.runner.bots = self.bots
            self._start_scheduler()
            for spec in self.specs.values():
                if spec.kind == "mail" and spec.enabled and spec.watched:
                    self.watchers.add(spec)
            self.watchers.reconcile()
            if self.serve_api:
                self._start_api()
        except BaseException:
            self.stop()
            raise
        log.info(
            "worker started",
            extra={"sources": sorted(self.specs), "jobs": self.job_changes, "api": self.api_url},
        )

    def _recover(self) -> None:
        """Runs left 'running' by a worker or run-now that died are recorded as interrupted."""
        dead = drop_dead_locks(self.store)
        holders = live_holders(self.store)
        with self.store.session() as session:
            sources = session.execute(
                select(RunRow.source).where(RunRow.outcome == "running").distinct()
            ).scalars()
            interrupted = {
                source: interrupt_running(session, source) for source in sources if source not in holders
            }
        if dead or any(interrupted.values()):
            log.info(
                "recovered after an unclean stop", extra={"interrupted": interrupted, "locks_dropped": dead}
            )

    def _start_scheduler(self) -> None:
        scheduled = [spec for spec in self.specs.values() if spec.scheduled]
        self.scheduler = build_scheduler(self.store, workers=len(scheduled) + 4)
        jobs.attach(self)
        self.scheduler.start(paused=True)
        self.job_changes = sync_source_jobs(self.scheduler, scheduled, first_run_delay=self.first_run_delay)
        now = datetime.now(UTC)
        clock = (
            ("rules", self._evaluate_rules, self.intervals["rules"], now + timedelta(seconds=5)),
            ("outbox", self._deliver_outbox, self.intervals["outbox"], now + timedelta(seconds=2)),
            ("housekeeping", self._housekeeping, self.intervals["housekeeping"], None),
        )
        for job_id, function, seconds, first in clock:
            # No next_run_time means "paused" to APScheduler: give one only to start early.
            when = {"next_run_time": first} if first is not None else {}
            self.scheduler.add_job(
                function,
                "interval",
                seconds=seconds,
                id=job_id,
                name=job_id,
                jobstore=CLOCK_STORE,
                replace_existing=True,
                misfire_grace_time=max(int(seconds), 5),
                **when,
            )
        self.scheduler.resume()

    def _start_api(self) -> None:
        from api.app import serve
        from worker.health import health_router

        self.server = serve(
            self.store, self.config, extra_routers=[health_router(self), self.metrics.router()]
        )
        self.server.config.timeout_graceful_shutdown = 2
        self._server_thread = threading.Thread(target=self.server.run, name="api", daemon=True)
        self._server_thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if not self._server_thread.is_alive():
                from quaysync.errors import ConfigError

                raise ConfigError(
                    [
                        f"api: cannot serve on {self.config.api.host}:{self.config.api.port} "
                        "(in use? see the log above); change api.port in config.yaml"
                    ]
                )
            if time.monotonic() > deadline:
                raise RuntimeError("the API did not start within 15 s")
            time.sleep(0.05)

    # -- state ------------------------------------------------------------------------------

    @property
    def api_port(self) -> int | None:
        if self.server is None:
            return None
        from api.app import bound_port

        return bound_port(self.server)

    @property
    def api_url(self) -> str | None:
        port = self.api_port
        if port is None:
            return None
        host = self.config.api.host
        shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
        return f"http://{shown}:{port}/"

    def scheduler_alive(self) -> bool:
        scheduler = self.scheduler
        if scheduler is None or self.stopping.is_set():
            return False
        thread = getattr(scheduler, "_thread", None)
        return bool(scheduler.running) and thread is not None and thread.is_alive()

    def browser_pids(self) -> list[int] | None:
        return self.bots.browser_pids() if self.bots is not None else []

    def running_sources(self) -> dict[str, datetime]:
        running = dict(self._running)
        for key in self.watchers.running():
            running.setdefault(key, self.started_at or datetime.now(UTC))
        return running

    def next_runs(self) -> dict[str, datetime | None]:
        return job_times(self.scheduler)

    # -- a tick -----------------------------------------------------------------------------

    def skip_reason(self, spec: SourceSpec, now: datetime | None = None) -> str | None:
        """Why a tick of `spec` must not run now (None: run it)."""
        now = now or datetime.now(UTC)
        if not spec.enabled:
            return "disabled"
        if spec.active_hours is not None:
            local = now.astimezone(ZoneInfo(spec.time_zone)).time()
            if not spec.active_hours.contains(local):
                return "outside active hours"
        with self.store.session() as session:
            if is_paused(session, spec.key):
                return "paused"
            blocked = blocked_entries(session, spec.key, now)
        if blocked:
            if spec.kind == "portal":
                portal = next(p for p in self.config.sources.portals if p.name == spec.name)
                if all(account.username in blocked for account in portal.accounts):
                    return "blocked"
            else:
                return "blocked"
        return None

    def fire(self, key: str, trigger: str = "schedule") -> RunOutcome | None:
        """Run source `key` now unless paused, blocked, outside its hours, or already running."""
        spec = self.specs.get(key)
        if spec is None:
            log.warning("tick of %s, which is no longer configured; skipped", key)
            return None
        if self.stopping.is_set():
            return None
        reason = self.skip_reason(spec)
        if reason is not None:
            log.info("skipped %s: %s", key, reason, extra={"source": key, "skipped": reason})
            self.metrics.skip(key, reason.replace(" ", "_"))
            return None
        try:
            held = self.locks.acquire(key, note=f"running ({trigger})")
        except SourceBusy as busy:
            log.info("skipped %s: %s", key, busy, extra={"source": key, "skipped": "busy"})
            self.metrics.skip(key, "busy")
            return None
        self._running[key] = datetime.now(UTC)
        try:
            outcome = self.runner.run(spec, trigger=trigger)
        except Exception:
            if self.stopping.is_set():  # e.g. the browser was closed under a run starting late
                log.info("run of %s abandoned: the worker is stopping", key, extra={"source": key})
            else:
                log.exception("run of %s failed", key, extra={"source": key})
            return None
        finally:
            self._running.pop(key, None)
            self.locks.release(held)
        if not outcome.nothing_to_do:
            log.info(
                "%s: %s in %.1f s",
                key,
                outcome.outcome,
                outcome.seconds,
                extra={"source": key, "outcome": outcome.outcome, "run_ids": outcome.run_ids,
                       "counts": outcome.counts},
            )  # fmt: skip
        return outcome

    def _mail_pass(self, spec: SourceSpec, result: Any) -> None:
        seconds = None
        if result.started_at is not None and result.ended_at is not None:
            seconds = (result.ended_at - result.started_at).total_seconds()
        self.metrics.observe_run(spec.key, "mail", result.outcome, seconds, result.counts())
        if result.outcome in ("blocked", "layout_changed"):
            self.runner.evaluate_sources()

    # -- the clock jobs ---------------------------------------------------------------------

    def _record(self, source: str, kind: str, started: datetime, counts: dict[str, Any]) -> None:
        with self.store.session() as session:
            session.add(
                RunRow(
                    source=source,
                    kind=kind,
                    trigger="schedule",
                    started_at=started,
                    ended_at=datetime.now(UTC),
                    outcome="ok",
                    counts=counts,
                )
            )

    def _evaluate_rules(self) -> None:
        """Lights, tracking (stale after sync.stop_tracking_after, active again on news) and alerts."""
        from sync.rules import evaluate_all

        if self.stopping.is_set():
            return
        started = datetime.now(UTC)
        report = evaluate_all(self.store, self.config)
        counts = report.as_counts()
        if report.tracking_changed or report.opened or report.queued or report.resolved:
            self._record("rules", "rules", started, counts)
            log.info("rules evaluated", extra={"counts": counts})

    def _deliver_outbox(self) -> None:
        from sync.channels import notification_senders, retry_policy
        from sync.outbox import deliver_due
        from sync.webhooks import EventSender

        if self.stopping.is_set():
            return
        if self._event_sender is None:
            self._event_sender = EventSender(self.store)
        started = datetime.now(UTC)
        senders = {**notification_senders(self.config), "event": self._event_sender}
        report = deliver_due(self.store, senders, policy=retry_policy(self.config))
        if report.sent or report.failed or report.dead:
            counts = {"sent": report.sent, "failed": report.failed, "dead": report.dead}
            self._record("outbox", "notify", started, counts)
            log.info("outbox delivered", extra={"counts": counts})

    def _housekeeping(self) -> None:
        if self.stopping.is_set():
            return
        self.watchers.reconcile()
        if time.monotonic() - self._last_renew > 60:
            self._last_renew = time.monotonic()
            self.locks.renew()

    # -- stop -------------------------------------------------------------------------------

    def request_stop(self) -> None:
        """Ask the worker to stop (safe from a signal handler: sets an event). The shutdown
        deadline counts from here, not from when the main thread gets round to `stop`."""
        if self._stop_requested_at is None:
            self._stop_requested_at = time.monotonic()
        self.stopping.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Until a stop is requested (True) or `timeout` passes (False)."""
        return self.stopping.wait(timeout)

    def stop(self, deadline: float = SHUTDOWN_DEADLINE, *, hard_exit: bool = False) -> None:
        """Stop everything, within `deadline` seconds (see the module docstring). With `hard_exit`
        (the main job), a watchdog kills the browser and ends the process if that is not enough."""
        if self.stopped.is_set():
            return
        started = time.monotonic()
        if self._stop_requested_at is not None:
            deadline = max(1.0, deadline - (started - self._stop_requested_at))
        self.stopping.set()
        if hard_exit:
            watchdog = threading.Thread(
                target=self._watchdog, args=(deadline,), name="shutdown-watchdog", daemon=True
            )
            watchdog.start()
        log.info("worker stopping")
        if self.server is not None:
            self.server.should_exit = True
        if self.scheduler is not None:
            with contextlib.suppress(Exception):
                self.scheduler.shutdown(wait=False)
        self.watchers.stop_all(timeout=0)  # set their stop events; joined below
        if self.bots is not None:
            self.bots.close(grace=RUN_GRACE)
        self.watchers.stop_all(timeout=max(1.0, deadline - 4 - (time.monotonic() - started)))
        # Job threads return once their run is recorded; wait a little for their bookkeeping.
        until = time.monotonic() + 1.5
        while self._running and time.monotonic() < until:
            time.sleep(0.05)
        self._interrupt_held()
        if self._server_thread is not None:
            self._server_thread.join(max(0.5, deadline - 2 - (time.monotonic() - started)))
        if self.sandbox is not None:
            self.sandbox.stop()
        if self._event_sender is not None:
            with contextlib.suppress(Exception):
                self._event_sender.close()
        jobs.detach(self)
        self.stopped.set()
        log.info("worker stopped", extra={"seconds": round(time.monotonic() - started, 2)})

    def _interrupt_held(self) -> None:
        """Runs this process still has going are recorded as interrupted; their locks let go."""
        for source in self.locks.held():
            with contextlib.suppress(Exception), self.store.session() as session:
                interrupt_running(session, source)
        for source in list(self._running):
            with contextlib.suppress(Exception), self.store.session() as session:
                interrupt_running(session, source)

    def _watchdog(self, deadline: float) -> None:
        if self.stopped.wait(deadline):
            return
        log.error("the worker did not stop within %.0f s: killing the browser and exiting", deadline)
        from bots.browser import launched_processes, reap

        with contextlib.suppress(Exception):
            reap(launched_processes(), wait_seconds=0.5)
        with contextlib.suppress(Exception):
            self._interrupt_held()
        logging.shutdown()
        os._exit(1)
