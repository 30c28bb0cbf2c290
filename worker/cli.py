"""Commands: run (the main job), run-now, runs, sources, pause, resume, doctor."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from quaysync.cli import abort, config, console, errors, handles_errors, opened_store, print_json, print_table
from quaysync.errors import ConfigError

log = logging.getLogger(__name__)

JsonOption = Annotated[bool, typer.Option("--json", help="print JSON instead of a table")]
SourceArgument = Annotated[
    str, typer.Argument(help="portal:NAME, mail:NAME, import:NAME, export:NAME, or a bare NAME")
]
EXIT_BUSY = 75  # EX_TEMPFAIL: the source is running elsewhere; try again later
RUN_EXIT = {"failed": 1, "blocked": 1, "layout_changed": 1, "interrupted": 130}


def register(app: typer.Typer) -> None:
    app.command("run")(run_command)
    app.command("run-now")(run_now_command)
    app.command("runs")(runs_command)
    app.command("sources")(sources_command)
    app.command("pause")(pause_command)
    app.command("resume")(resume_command)
    app.command("doctor")(doctor_command)


# -- run -----------------------------------------------------------------------------------------


@handles_errors
def run_command(
    api: Annotated[
        bool, typer.Option("--api/--no-api", help="serve the HTTP API, /health and /metrics")
    ] = True,
) -> None:
    """The main job: scheduled runs of every source, the HTTP API, /health and /metrics, in one process.

    With `sandbox.enabled` (the embedded default) it first starts the sandbox portal, mailbox and
    SMTP sink. Logs are JSON lines on stderr; SIGTERM or Ctrl-C stops it cleanly within 10 s.
    """
    from quaysync.logs import setup_logging
    from store import StoreError, open_store
    from worker.banner import banner
    from worker.service import Worker

    settings = config()
    setup_logging(settings.logging.level, settings.logging.json_logs)
    try:
        store = open_store(settings.store_url)
    except StoreError as error:
        abort(str(error), 1)
    worker = Worker(settings, store, serve_api=api)
    signals = (signal.SIGTERM, signal.SIGINT)
    previous = {number: signal.signal(number, lambda *_: worker.request_stop()) for number in signals}
    try:
        worker.start()
        sys.stdout.write(banner(worker) + "\n")
        sys.stdout.flush()
        while not worker.wait(1.0):
            if not worker.scheduler_alive():
                errors.print("[bold red]the scheduler stopped; ending the worker[/]")
                break
    finally:
        # A second Ctrl-C while stopping is ignored: the stop has a deadline of its own.
        for number in signals:
            signal.signal(number, signal.SIG_IGN)
        worker.stop(hard_exit=True)
        store.dispose()
        for number, handler in previous.items():
            signal.signal(number, handler)
        _exit_without_waiting_for_stragglers()


def _exit_without_waiting_for_stragglers() -> None:
    """Everything is stopped and recorded; a thread still finishing (a job's last bookkeeping, a
    library's pool) must not hold the process past the shutdown deadline at interpreter exit."""
    lingering = [
        thread
        for thread in threading.enumerate()
        if thread is not threading.main_thread() and not thread.daemon and thread.is_alive()
    ]
    if lingering:
        log.info("exiting with threads still finishing", extra={"threads": [t.name for t in lingering]})
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


# -- run-now -------------------------------------------------------------------------------------


@contextmanager
def _progress(quiet: bool, title: str) -> Iterator[Any]:
    bar = Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(),
        console=errors,
        transient=quiet,
        disable=quiet,
    )
    with bar:
        task = bar.add_task(title, total=None, info="")

        def update(state: dict[str, Any]) -> None:
            bar.update(task, total=state.get("total") or None, completed=state.get("done", 0),
                       info=state.get("message", ""))  # fmt: skip

        yield update


@handles_errors
def run_now_command(source: SourceArgument, as_json: JsonOption = False) -> None:
    """Run a source now, in this process, with progress; recorded like a scheduled run.

    Refuses (exit 75) while the same source is running in the worker or another run-now.
    Exit status: 0 ok or partial, 1 failed / blocked / layout changed, 130 interrupted.
    """
    import threading

    from store.locks import SourceBusy, SourceLocks
    from worker.runner import SourceRunner
    from worker.sources import find_source

    settings = config()
    spec = find_source(settings, source)
    stop = threading.Event()
    with opened_store() as store:
        locks = SourceLocks(store, "run-now")
        try:
            held = locks.acquire(spec.key, note="running (run-now)")
        except SourceBusy as busy:
            abort(f"{busy}. It was not started again; try later, or see `run.py runs --source {spec.key}`.",
                  EXIT_BUSY)  # fmt: skip
        try:
            runner = SourceRunner(settings, store, stop_event=stop)
            with _progress(as_json, f"{spec.key}") as progress:
                try:
                    outcome = runner.run(spec, trigger="manual", progress=progress)
                except KeyboardInterrupt:
                    stop.set()
                    from store.runs import interrupt_running

                    with store.session() as session:
                        interrupt_running(session, spec.key)
                    abort(f"{spec.key}: interrupted", 130)
        finally:
            locks.release(held)
    if as_json:
        print_json(outcome.to_json())
    elif outcome.nothing_to_do:
        console.print(f"{spec.key}: nothing new to do (no run recorded)")
    else:
        from worker.history import counts_text, duration_text, errors_text

        print_table(
            f"{spec.key} — {outcome.outcome}",
            ("runs", "duration", "counts", "errors", "evidence"),
            [
                (
                    ", ".join(str(run_id) for run_id in outcome.run_ids),
                    duration_text(outcome.seconds),
                    counts_text(spec.run_kind, outcome.counts),
                    errors_text(outcome.errors),
                    "\n".join(outcome.evidence[:5]),
                )
            ],
        )
    code = RUN_EXIT.get(outcome.outcome, 0)
    if code:
        raise typer.Exit(code)


# -- runs ----------------------------------------------------------------------------------------


@handles_errors
def runs_command(
    source: Annotated[
        str | None, typer.Option(help="a source (portal:sandbox), a kind prefix (portal:) or a bare name")
    ] = None,
    kind: Annotated[str | None, typer.Option(help="scrape, mail, import, export, rules, notify")] = None,
    outcome: Annotated[
        str | None, typer.Option(help="running, ok, partial, failed, blocked, layout_changed, interrupted")
    ] = None,
    since: Annotated[str | None, typer.Option(help="2h, 3d, or an ISO date / time")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000, help="at most this many, newest first")] = 20,
    as_json: JsonOption = False,
) -> None:
    """Run history: source, start, duration, outcome, counts, errors, evidence; newest first."""
    from store.runs import OUTCOMES
    from worker.history import counts_text, duration_text, errors_text, list_runs, parse_since

    if outcome is not None and outcome not in OUTCOMES:
        abort(f"--outcome {outcome!r}: one of {', '.join(OUTCOMES)}", 2)
    moment = parse_since(since) if since else None
    with opened_store() as store:
        runs = list_runs(store, source=source, kind=kind, outcome=outcome, since=moment, limit=limit)
    if as_json:
        print_json(runs)
        return
    if not runs:
        console.print("no runs match")
        return
    print_table(
        f"runs (newest first, {len(runs)} shown)",
        ("id", "source", "started", "duration", "outcome", "counts", "errors", "evidence"),
        [
            (
                run["id"],
                run["source"],
                run["started_at"].astimezone().strftime("%Y-%m-%d %H:%M:%S"),
                duration_text(run["duration_seconds"]),
                run["outcome"] + ("" if run["trigger"] == "schedule" else f" ({run['trigger']})"),
                counts_text(run["kind"], run["counts"]),
                errors_text(run["errors"]),
                (run["evidence"][0] + (f" (+{len(run['evidence']) - 1})" if len(run["evidence"]) > 1 else ""))
                if run["evidence"]
                else "",
            )
            for run in runs
        ],
    )


# -- sources, pause, resume ----------------------------------------------------------------------


@handles_errors
def sources_command(as_json: JsonOption = False) -> None:
    """Each source: schedule, next run, paused, blocked accounts, running now, last run; and tracking."""
    from worker.status import sources_overview

    settings = config()
    with opened_store() as store:
        overview = sources_overview(settings, store)
    if as_json:
        print_json(overview)
        return
    print_table(
        "sources",
        ("source", "schedule", "next run", "state", "last run", "last success"),
        [
            (
                item["source"],
                item["schedule"] or "by hand",
                _local(item["next_run_at"]),
                item["state"],
                (
                    f"{item['last_run']['outcome']} {_local(item['last_run']['started_at'])}"
                    if item["last_run"]
                    else "never"
                ),
                _local(item["last_success_at"]),
            )
            for item in overview["sources"]
        ],
    )
    tracking = overview["tracking"]
    console.print(
        f"containers tracked: {tracking['active']} active · {tracking['stale']} stale "
        f"(no news for {overview['stop_tracking_after']}) · {tracking['final']} final (empty returned)"
    )


def _local(moment: datetime | str | None) -> str:
    if moment is None:
        return "—"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


@handles_errors
def pause_command(source: SourceArgument) -> None:
    """Pause a source: the worker skips its scheduled runs (and stops watching a mailbox) until resumed."""
    from worker.control import set_paused
    from worker.sources import find_source

    spec = find_source(config(), source)
    with opened_store() as store:
        changed = set_paused(store, spec.key, True)
    console.print(
        f"{spec.key}: {'paused' if changed else 'already paused'}; `run.py resume {spec.key}` resumes it"
    )


@handles_errors
def resume_command(source: SourceArgument) -> None:
    """Resume a paused source; also clears its blocked accounts (after a person fixed the cause)."""
    from worker.control import clear_blocked, set_paused
    from worker.sources import find_source

    spec = find_source(config(), source)
    with opened_store() as store:
        changed = set_paused(store, spec.key, False)
        with store.session() as session:
            cleared = clear_blocked(session, spec.key)
    parts = ["resumed" if changed else "was not paused"]
    if cleared:
        parts.append(f"blocked accounts cleared: {', '.join(cleared)} (the next run tries them again)")
    console.print(f"{spec.key}: {'; '.join(parts)}")


# -- doctor --------------------------------------------------------------------------------------

VERDICT_STYLE = {"ok": "green", "warn": "yellow", "fail": "bold red", "skip": "dim"}


def doctor_command(as_json: JsonOption = False) -> None:
    """Check the installation: config, store, browser, each portal's login, each mailbox, SMTP.

    Exit status 1 when a check fails.
    """
    from rich.table import Table
    from rich.text import Text

    from worker.doctor import FAIL, Check, failed, run_checks

    try:
        settings = config()
    except ConfigError as error:
        checks = [Check("config", FAIL, "; ".join(error.problems))]
    else:
        checks = run_checks(settings)
    if as_json:
        print_json({"ok": not failed(checks), "checks": [check.to_json() for check in checks]})
    else:
        table = Table(title="quaysync doctor")
        table.add_column("check")
        table.add_column("verdict")
        table.add_column("detail", overflow="fold")
        for check in checks:
            item = check.to_json()
            table.add_row(Text(item["name"]), Text(item["verdict"], style=VERDICT_STYLE[item["verdict"]]),
                          Text(item["detail"]))  # fmt: skip
        console.print(table)
        bad = [check.name for check in checks if check.verdict == FAIL]
        console.print(f"[bold red]{len(bad)} check(s) failed[/]" if bad else "[green]all checks passed[/]")
    if failed(checks):
        raise typer.Exit(1)
