"""Commands: scrape (run a portal's bot now, recorded as a run), record (a session into recordings/)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
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

from bots.browser import BrowserPool
from bots.engine import scrape_portal_sync
from bots.recorder import record_portal
from bots.result import (
    BLOCKED,
    FAILED,
    INTERRUPTED,
    LAYOUT_CHANGED,
    ScrapeOptions,
    ScrapeProgress,
    ScrapeResult,
)
from bots.sandbox_host import embedded_sandbox, is_embedded
from bots.targets import find_portal
from quaysync.aio import run_sync
from quaysync.cli import abort, config, errors, handles_errors, opened_store, print_json, print_table
from quaysync.config import BrowserOptions, PortalSource
from quaysync.errors import BadInputError
from store import Store
from store.locks import SourceBusy, SourceLocks

REPO = Path(__file__).resolve().parents[1]
EXIT_CODES = {FAILED: 1, BLOCKED: 1, LAYOUT_CHANGED: 1, INTERRUPTED: 130}
# The clock a recording of the embedded sandbox is pinned to (every lifecycle state is present).
RECORDING_CLOCK = datetime.fromisoformat("2026-11-08T00:00:00+00:00")

JsonOption = Annotated[bool, typer.Option("--json", help="print the result as JSON")]
Containers = Annotated[
    list[str] | None, typer.Argument(help="container numbers; none: the store's active ones")
]


def register(app: typer.Typer) -> None:
    app.command("scrape")(scrape_command)
    app.command("record")(record_command)


@contextmanager
def _one_run_of(store: Store, source: str) -> Iterator[None]:
    """Hold the source's lock (the worker's scheduled runs take the same one); busy → exit 75."""
    try:
        with SourceLocks(store, "scrape").hold(source, note="running (run.py scrape)"):
            yield
    except SourceBusy as busy:
        where = f"{busy.holder.get('owner')}, pid {busy.holder.get('pid')}"
        abort(f"{source} is running elsewhere ({where}); try again when it has finished", 75)


@handles_errors
def scrape_command(
    portal: Annotated[str, typer.Argument(help="the portal's name in config.yaml (sources.portals)")],
    containers: Containers = None,
    mode: Annotated[
        str | None, typer.Option(help="how to read results: export or pages (family default)")
    ] = None,
    vessels: Annotated[bool, typer.Option("--vessels/--no-vessels", help="read the vessel schedule")] = True,
    details: Annotated[bool, typer.Option(help="also open each container's detail page")] = False,
    retry_blocked: Annotated[
        bool, typer.Option(help="try accounts marked blocked (after a person fixed the cause)")
    ] = False,
    trace: Annotated[bool, typer.Option("--trace/--no-trace", help="Playwright trace for evidence")] = True,
    as_json: JsonOption = False,
) -> None:
    """Run a portal's bot now (progress bar on stderr); the run is recorded like a scheduled one.

    Exit status: 0 ok or partial, 1 failed / blocked / layout changed, 130 interrupted.
    """
    settings = config()
    source = find_portal(settings, portal)
    options = ScrapeOptions(mode=mode, include_vessels=vessels, details=details, retry_blocked=retry_blocked,
                            trace=trace)  # fmt: skip
    with (
        opened_store() as store,
        _one_run_of(store, f"portal:{source.name}"),
        embedded_sandbox(settings, source) as effective,
        _progress_bar(as_json) as bar,
    ):
        task = bar.add_task(f"scraping {portal}", total=None, info="")

        def show(progress: ScrapeProgress) -> None:
            bar.update(
                task,
                total=progress.total or None,
                completed=progress.done,
                info=f"stored {progress.stored} · not found {progress.not_found} · failed {progress.failed}"
                f" · pages {progress.pages} · logins {progress.logins}",
            )

        result = scrape_portal_sync(
            settings, effective, containers, store=store, progress=show, options=options
        )
    if as_json:
        print_json(result.to_json())
    else:
        _print_result(result)
    code = EXIT_CODES.get(result.outcome, 0)
    if code:
        raise typer.Exit(code)


def _progress_bar(quiet: bool) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(),
        console=errors,
        transient=quiet,
    )


def _print_result(result: ScrapeResult) -> None:
    counts = result.counts
    print_table(
        f"Run {result.run_id} of portal:{result.portal} — {result.outcome}",
        ("containers", "stored", "not found", "failed", "pages", "logins", "retries"),
        [[counts.get(name, 0) for name in
          ("containers", "stored", "not_found", "failed", "pages", "logins", "retries")]],
    )  # fmt: skip
    if result.errors:
        print_table(
            "What went wrong",
            ("kind", "subject", "message", "what to do / evidence"),
            [
                (
                    error.get("kind"),
                    error.get("subject"),
                    error.get("message"),
                    error.get("action") or ", ".join(error.get("evidence") or [])[:200],
                )
                for error in result.errors[:50]
            ],
        )
        if len(result.errors) > 50:
            errors.print(f"... and {len(result.errors) - 50} more (see --json or the run record)")


@handles_errors
def record_command(
    portal: Annotated[str, typer.Argument(help="the portal's name in config.yaml (sources.portals)")],
    containers: Annotated[list[str] | None, typer.Argument(help="container numbers to search")] = None,
    out: Annotated[Path | None, typer.Option(help="folder to write (default: recordings/PORTAL)")] = None,
    private_sandbox: Annotated[
        bool,
        typer.Option(help="for the embedded sandbox: serve a private one on a free port with a pinned clock"),
    ] = True,
    pin: Annotated[str | None, typer.Option(help="world clock of the private sandbox (ISO time)")] = None,
) -> None:
    """Capture a session of a portal (HAR + HTML snapshots, secrets masked) into recordings/PORTAL/."""
    settings = config()
    source = find_portal(settings, portal)
    embedded = is_embedded(settings, source)
    numbers = list(containers or [])
    if not numbers:
        if not embedded:
            abort("give the container numbers to search", 2)
        from sandbox.world import World  # the embedded world's own containers

        world = World(seed=settings.sandbox.seed, containers=settings.sandbox.containers)
        numbers = [container.container_number for container in world.containers[:3]] + ["MSKU0000006"]
    try:
        pinned = datetime.fromisoformat(pin) if pin else RECORDING_CLOCK
    except ValueError:
        raise BadInputError(f"--pin {pin!r} is not an ISO date and time") from None
    if pinned.utcoffset() is None:
        raise BadInputError("--pin needs a time zone offset (e.g. 2026-11-08T00:00:00+00:00)")
    target = out or REPO / "recordings" / portal
    private = private_sandbox and embedded
    # Two rows per results page: a few containers are enough to record the postback paging.
    knobs = {"page_size": 2} if private else None
    with embedded_sandbox(settings, source, private=private, pinned=pinned, knobs=knobs) as effective:
        manifest = run_sync(_record(settings.browser, effective, numbers, target))
    errors.print(f"recorded {len(manifest['pages'])} pages of {portal} into {target}")
    print_json({"out": str(target), **manifest})


async def _record(
    browser_options: BrowserOptions, portal: PortalSource, numbers: list[str], target: Path
) -> dict[str, Any]:
    async with BrowserPool(browser_options) as pool:
        return await record_portal(portal, numbers, target, pool=pool)
