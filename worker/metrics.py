"""Prometheus `/metrics`: what the worker did (counted as runs end) and what the store holds now.

Counted by this process as its runs end (reset on restart, as Prometheus counters may):
  quaysync_runs_total{source,kind,outcome}            runs by outcome
  quaysync_run_duration_seconds{kind}                 run durations (histogram)
  quaysync_containers_checked_total{source}           containers a portal run asked for
  quaysync_observations_stored_total{source}          new observations stored by runs
  quaysync_portal_page_seconds{portal}                seconds per page load (a run's duration / its
                                                      pages; the bots keep no per-page timings)
  quaysync_skipped_ticks_total{source,reason}         ticks not run: paused, blocked, busy, outside hours
Read when scraped:
  quaysync_scheduler_up                               1 while the scheduler runs
  quaysync_containers{tracking}                       containers by tracking state (active/stale/final)
  quaysync_outbox_items{state}                        notifications pending / dead
  quaysync_blocked_accounts{source}                   accounts a person must unblock
  quaysync_last_success_timestamp_seconds{source}     end of each source's last ok/partial run
  quaysync_browser_rss_bytes                          resident memory of the browser's processes
  process_*                                           this process (prometheus_client's collector)
Each app gets its own registry: two workers in one test process do not mix their figures.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterable
from typing import Any

import psutil
from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from store import ContainerStatusRow, OutboxRow, RunRow, Store
from worker.control import all_blocked

log = logging.getLogger(__name__)

DURATION_BUCKETS = (0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800)
PAGE_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30)
SUCCESS = ("ok", "partial")


def browser_rss_bytes(pids: Iterable[int] | None = None) -> int:
    """Resident memory of the browser processes: the given pids, else Chromium under this process."""
    if pids is None:
        try:
            candidates = psutil.Process(os.getpid()).children(recursive=True)
        except psutil.Error:
            return 0
        processes = []
        for process in candidates:
            with contextlib.suppress(psutil.Error):
                if "chrom" in process.name().lower() or "headless_shell" in process.name().lower():
                    processes.append(process)
    else:
        processes = []
        for pid in pids:
            with contextlib.suppress(psutil.Error):
                processes.append(psutil.Process(pid))
    total = 0
    for process in processes:
        with contextlib.suppress(psutil.Error):
            total += process.memory_info().rss
    return total


class _StoreCollector(Collector):
    def __init__(self, metrics: WorkerMetrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily("quaysync_scheduler_up", "1 while the worker's scheduler runs")
        up.add_metric([], 1.0 if self.metrics.scheduler_alive() else 0.0)
        yield up
        rss = GaugeMetricFamily("quaysync_browser_rss_bytes", "resident memory of the browser's processes")
        rss.add_metric([], float(browser_rss_bytes(self.metrics.browser_pids())))
        yield rss
        store = self.metrics.store
        if store is None:
            return
        try:
            yield from self._from_store(store)
        except Exception:  # the store is down: /health says so; the metrics still answer
            log.exception("metrics: reading the store failed")

    def _from_store(self, store: Store) -> Iterable[Metric]:
        with store.session() as session:
            tracking = dict(
                session.execute(
                    select(ContainerStatusRow.tracking, func.count()).group_by(ContainerStatusRow.tracking)
                ).all()
            )
            outbox = dict(
                session.execute(
                    select(OutboxRow.state, func.count())
                    .where(OutboxRow.state.in_(("pending", "dead")))
                    .group_by(OutboxRow.state)
                ).all()
            )
            last_success = session.execute(
                select(RunRow.source, func.max(RunRow.ended_at))
                .where(RunRow.outcome.in_(SUCCESS))
                .group_by(RunRow.source)
            ).all()
            blocked = all_blocked(session)
        containers = GaugeMetricFamily(
            "quaysync_containers", "containers by tracking state", labels=["tracking"]
        )
        for state in ("active", "stale", "final"):
            containers.add_metric([state], float(tracking.get(state, 0)))
        yield containers
        items = GaugeMetricFamily("quaysync_outbox_items", "outbox items pending or dead", labels=["state"])
        for state in ("pending", "dead"):
            items.add_metric([state], float(outbox.get(state, 0)))
        yield items
        accounts = GaugeMetricFamily(
            "quaysync_blocked_accounts", "accounts a person must unblock", labels=["source"]
        )
        for source, entries in sorted(blocked.items()):
            accounts.add_metric([source], float(len(entries)))
        yield accounts
        success = GaugeMetricFamily(
            "quaysync_last_success_timestamp_seconds",
            "end of each source's last ok or partial run (Unix time)",
            labels=["source"],
        )
        for source, ended in sorted(last_success, key=lambda row: row[0]):
            if ended is not None:
                success.add_metric([source], ended.timestamp())
        yield success


class WorkerMetrics:
    """The worker's metrics; `observe_run(...)` as runs end, `router()` serves them."""

    def __init__(
        self,
        store: Store | None = None,
        *,
        scheduler_alive: Callable[[], bool] = lambda: False,
        browser_pids: Callable[[], list[int] | None] = lambda: None,
    ) -> None:
        self.store = store
        self.scheduler_alive = scheduler_alive
        self.browser_pids = browser_pids
        self.registry = CollectorRegistry()
        self.runs = Counter(
            "quaysync_runs",
            "runs by source and outcome",
            ["source", "kind", "outcome"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "quaysync_run_duration_seconds",
            "run durations",
            ["kind"],
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self.containers_checked = Counter(
            "quaysync_containers_checked",
            "containers portal runs asked for",
            ["source"],
            registry=self.registry,
        )
        self.observations_stored = Counter(
            "quaysync_observations_stored",
            "new observations stored by runs",
            ["source"],
            registry=self.registry,
        )
        self.page_seconds = Histogram(
            "quaysync_portal_page_seconds",
            "seconds per portal page load (a run's duration divided by its pages)",
            ["portal"],
            buckets=PAGE_BUCKETS,
            registry=self.registry,
        )
        self.skipped = Counter(
            "quaysync_skipped_ticks", "schedule ticks not run, by reason", ["source", "reason"],
            registry=self.registry,
        )  # fmt: skip
        ProcessCollector(registry=self.registry)
        self.registry.register(_StoreCollector(self))

    def observe_run(
        self, source: str, kind: str, outcome: str, seconds: float | None, counts: dict[str, Any]
    ) -> None:
        self.runs.labels(source, kind, outcome).inc()
        if seconds is not None:
            self.duration.labels(kind).observe(max(seconds, 0.0))
        added = counts.get("added_observations")
        if isinstance(added, int) and added > 0:
            self.observations_stored.labels(source).inc(added)
        if kind == "scrape":
            checked = counts.get("containers")
            if isinstance(checked, int) and checked > 0:
                self.containers_checked.labels(source).inc(checked)
            pages = counts.get("pages")
            if seconds is not None and isinstance(pages, int) and pages > 0:
                self.page_seconds.labels(source.removeprefix("portal:")).observe(seconds / pages)

    def skip(self, source: str, reason: str) -> None:
        self.skipped.labels(source, reason).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    def router(self) -> APIRouter:
        router = APIRouter(tags=["worker"])

        @router.get(
            "/metrics",
            summary="Prometheus metrics of the worker",
            response_class=Response,
            responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}},
        )
        def metrics(_request: Request) -> Response:
            return Response(self.exposition(), media_type=CONTENT_TYPE_LATEST)

        return router
