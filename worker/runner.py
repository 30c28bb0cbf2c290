"""Running one source now — the same for a scheduled tick and for `run.py run-now`.

    runner = SourceRunner(config, store, bots=bot_loop, stop_event=stop, metrics=metrics)
    outcome = runner.run(spec, trigger="schedule", progress=callback)

A portal is scraped by the bots (on the worker's shared browser when `bots` is given, else on a
browser of its own, serving the embedded sandbox portal meanwhile when nothing else does); a
mailbox is polled once; an import reads its new files; an export writes its workbook. Each of
them records its own run(s). After a run that ended blocked or with a changed layout, the rules'
source conditions are evaluated at once (alerts for a person), not at the next clock tick.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from quaysync.config import Config, ExportOptions, ImportSource, MailboxSource, PortalSource
from quaysync.errors import BadInputError
from store import Store
from worker.control import record_mail_blocked
from worker.sources import SourceSpec

log = logging.getLogger(__name__)

# Worst first: the outcome of several runs (an import of several files) is the worst of them.
SEVERITY = ("interrupted", "layout_changed", "blocked", "failed", "partial", "ok")

Progress = Callable[[dict[str, Any]], None]


@dataclass
class RunOutcome:
    """What running a source did: its run(s), the worst outcome, the summed counts."""

    source: str
    outcome: str = "ok"
    run_ids: list[int] = field(default_factory=list)
    counts: dict[str, Any] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    seconds: float = 0.0
    nothing_to_do: bool = False  # e.g. an import whose files had not changed: no run recorded

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "outcome": self.outcome,
            "run_ids": self.run_ids,
            "counts": self.counts,
            "errors": self.errors,
            "evidence": self.evidence,
            "seconds": round(self.seconds, 3),
            "nothing_to_do": self.nothing_to_do,
        }


def worst(outcomes: list[str]) -> str:
    ranked = [outcome for outcome in SEVERITY if outcome in outcomes]
    return ranked[0] if ranked else "ok"


def _find(items: list[Any], name: str, kind: str) -> Any:
    for item in items:
        if item.name == name:
            return item
    raise BadInputError(f"no {kind} named {name!r} in the config")


class SourceRunner:
    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        bots: Any | None = None,  # worker.bots_loop.BotLoop
        stop_event: threading.Event | None = None,
        metrics: Any | None = None,  # worker.metrics.WorkerMetrics
    ) -> None:
        self.config = config
        self.store = store
        self.bots = bots
        self.stop_event = stop_event or threading.Event()
        self.metrics = metrics

    def run(self, spec: SourceSpec, *, trigger: str, progress: Progress | None = None) -> RunOutcome:
        started = time.monotonic()
        kind_runner = {
            "portal": self._portal,
            "mail": self._mail,
            "import": self._import,
            "export": self._export,
        }[spec.kind]
        outcome = kind_runner(spec, trigger, progress)
        outcome.seconds = time.monotonic() - started
        if not outcome.nothing_to_do:
            if self.metrics is not None:
                self.metrics.observe_run(
                    spec.key, spec.run_kind, outcome.outcome, outcome.seconds, outcome.counts
                )
            if outcome.outcome in ("blocked", "layout_changed"):
                self.evaluate_sources()
        return outcome

    def evaluate_sources(self) -> None:
        """Alerts for a blocked account or a changed layout now, not at the next clock tick."""
        try:
            from sync.rules import evaluate_sources

            evaluate_sources(self.store, self.config)
        except Exception:
            log.exception("evaluating the source rules failed")

    # -- each kind ---------------------------------------------------------------------------

    def _portal(self, spec: SourceSpec, trigger: str, progress: Progress | None) -> RunOutcome:
        portal: PortalSource = _find(list(self.config.sources.portals), spec.name, "portal")

        def tell(update: Any) -> None:
            if progress is not None:
                progress(
                    {
                        "run_id": update.run_id,
                        "total": update.total,
                        "done": update.done,
                        "message": f"stored {update.stored} · not found {update.not_found} · "
                        f"failed {update.failed} · pages {update.pages} · logins {update.logins}",
                    }
                )

        if self.bots is not None:
            try:
                result = self.bots.scrape(
                    portal, None, store=self.store, trigger=trigger, stop_event=self.stop_event, progress=tell
                )
            except concurrent.futures.CancelledError:
                # The worker is stopping and abandoned the page: the run recorded itself as interrupted.
                return RunOutcome(spec.key, "interrupted")
        else:
            from bots import scrape_portal_sync
            from bots.sandbox_host import embedded_sandbox

            with embedded_sandbox(self.config, portal) as effective:
                result = scrape_portal_sync(
                    self.config, effective, None, store=self.store, trigger=trigger, progress=tell,
                    stop_event=self.stop_event,
                )  # fmt: skip
        return RunOutcome(
            spec.key,
            result.outcome,
            [result.run_id],
            dict(result.counts),
            list(result.errors),
            list(result.evidence),
        )

    def _mail(self, spec: SourceSpec, trigger: str, progress: Progress | None) -> RunOutcome:
        from mailbox import poll_mailbox

        mailbox: MailboxSource = _find(list(self.config.sources.mailboxes), spec.name, "mailbox")

        def tell(update: Any) -> None:
            if progress is not None:
                progress(
                    {"total": update.total, "done": update.done, "message": f"{update.folder}: reading mail"}
                )

        result = poll_mailbox(self.config, mailbox, self.store, trigger=trigger, progress=tell)
        if result.outcome == "blocked":
            with self.store.session() as session:
                message = result.errors[-1]["message"] if result.errors else "the server refused the login"
                record_mail_blocked(session, mailbox.name, mailbox.username, message, run_id=result.run_id)
        return RunOutcome(
            spec.key,
            result.outcome,
            [result.run_id] if result.run_id is not None else [],
            result.counts(),
            list(result.errors),
        )

    def _import(self, spec: SourceSpec, trigger: str, progress: Progress | None) -> RunOutcome:
        from sync.imports import run_import_source

        source: ImportSource = _find(list(self.config.sources.imports), spec.name, "import")
        results = run_import_source(self.config, source, self.store, trigger=trigger)
        if not results:
            return RunOutcome(spec.key, "ok", nothing_to_do=True)
        counts: dict[str, Any] = {}
        errors: list[dict[str, Any]] = []
        for result in results:
            for name, value in result.counts().items():
                counts[name] = counts.get(name, 0) + value
            if result.error:
                errors.append({"kind": result.error_kind or "bad_input", "message": result.error,
                               "subject": result.file})  # fmt: skip
            if progress is not None:
                progress({"done": len(errors), "total": len(results), "message": f"imported {result.file}"})
        counts["files"] = len(results)
        return RunOutcome(
            spec.key,
            worst([result.outcome for result in results]),
            [result.run_id for result in results if result.run_id is not None],
            counts,
            errors,
        )

    def _export(self, spec: SourceSpec, trigger: str, progress: Progress | None) -> RunOutcome:
        from sync.export import run_export

        export: ExportOptions = _find(list(self.config.exports), spec.name, "export")
        result = run_export(self.config, export, self.store, trigger=trigger)
        errors = [{"kind": "io", "message": result.error}] if result.error else []
        return RunOutcome(
            spec.key,
            result.outcome,
            [result.run_id] if result.run_id is not None else [],
            dict(result.counts()),
            errors,
            list(result.paths),
        )
