"""Commands: `mail` — poll a mailbox now, reprocess quarantined mail, list templates and quarantine.

run.py mail MAILBOX                  poll now (the same as `run.py mail poll MAILBOX`)
run.py mail poll [MAILBOX] [--json]  every enabled mailbox when none is named
run.py mail reprocess [MAILBOX] [--reason TEXT] [--id N] [--json]
run.py mail templates [--json]
run.py mail quarantine [MAILBOX] [--reason TEXT] [--json]
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from typer.core import TyperGroup

from quaysync.cli import abort, config, errors, handles_errors, opened_store, print_json, print_table
from quaysync.config import Config, MailboxSource

JsonOption = Annotated[bool, typer.Option("--json", help="print JSON instead of a table")]
MailboxArgument = Annotated[
    str | None, typer.Argument(help="a mailbox name from config.yaml (default: every enabled one)")
]
ReasonOption = Annotated[
    str | None, typer.Option("--reason", help="only mail whose quarantine reason contains this text")
]


class _MailGroup(TyperGroup):
    """`mail MAILBOX` is `mail poll MAILBOX`: a first word that is no subcommand is a mailbox."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["poll", *args]
        return super().parse_args(ctx, args)


mail_app = typer.Typer(
    cls=_MailGroup,
    help="Carrier mail: poll a mailbox now (`mail MAILBOX`), reprocess quarantined mail, list templates.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add this room's commands to the CLI."""
    app.add_typer(mail_app, name="mail")


def _chosen(cfg: Config, name: str | None) -> list[MailboxSource]:
    mailboxes = cfg.sources.mailboxes
    if name is None:
        return [mailbox for mailbox in mailboxes if mailbox.enabled]
    for mailbox in mailboxes:
        if mailbox.name == name:
            return [mailbox]
    known = ", ".join(mailbox.name for mailbox in mailboxes) or "none configured"
    abort(f"no mailbox named {name!r} in the config (known: {known})", 2)


@contextmanager
def _progress_bar(enabled: bool) -> Iterator[Callable[[Any], None] | None]:
    """A rich progress bar on stderr, fed by PollProgress items (None when disabled)."""
    if not enabled:
        yield None
        return
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=errors, transient=False) as bar:
        tasks: dict[str, Any] = {}

        def update(item: Any) -> None:
            label = f"{item.mailbox}/{item.folder}"
            if label not in tasks:
                tasks[label] = bar.add_task(label, total=item.total)
            bar.update(tasks[label], total=item.total, completed=item.done)

        yield update


@mail_app.command("poll")
@handles_errors
def poll_command(mailbox: MailboxArgument = None, as_json: JsonOption = False) -> None:
    """Poll a mailbox now: read new mail, store it, move it to Processed or Quarantine; record a run."""
    from mailbox.poller import poll_mailbox
    from mailbox.reading import check_routes

    cfg = config()
    check_routes(cfg)
    targets = _chosen(cfg, mailbox)
    if not targets:
        abort("no enabled mailbox in the config", 2)
    results = []
    from store.locks import SourceBusy, SourceLocks

    with opened_store() as store:
        locks = SourceLocks(store, "mail")
        for target in targets:
            try:
                # the worker's watcher holds the same lock while it reads this mailbox
                with (
                    locks.hold(f"mail:{target.name}", note="running (run.py mail)"),
                    _progress_bar(not as_json) as progress,
                ):
                    results.append(poll_mailbox(cfg, target, store, trigger="manual", progress=progress))
            except SourceBusy as busy:
                where = f"{busy.holder.get('owner')}, pid {busy.holder.get('pid')}"
                abort(f"mail:{target.name} is being read elsewhere ({where}); try again later", 75)
    if as_json:
        documents = [result.to_json() for result in results]
        print_json(documents[0] if mailbox is not None else documents)
    else:
        _print_results("Mail poll", results)
    if any(result.outcome in ("failed", "blocked") for result in results):
        raise typer.Exit(1)


@mail_app.command("reprocess")
@handles_errors
def reprocess_command(
    mailbox: MailboxArgument = None,
    reason: ReasonOption = None,
    ids: Annotated[
        list[int] | None, typer.Option("--id", help="only this quarantined mail (repeatable)")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Read quarantined mail again with the current templates; move what now reads to Processed."""
    from mailbox.reading import check_routes
    from mailbox.reprocess import reprocess_quarantine

    cfg = config()
    check_routes(cfg)
    targets = _chosen(cfg, mailbox)
    results = []
    with opened_store() as store:
        for target in targets:
            with _progress_bar(not as_json) as progress:
                results.append(
                    reprocess_quarantine(cfg, target, store, reason=reason, ids=ids or (), progress=progress)
                )
    if as_json:
        documents = [result.to_json() for result in results]
        print_json(documents[0] if mailbox is not None else documents)
    else:
        _print_results("Mail reprocess", results)
        for result in results:
            rows = [(m["id"], m["state"], m["subject"], m["reason"] or "", m["parser"]) for m in result.mails]
            if rows:
                print_table(f"{result.mailbox}: quarantined mail read again", _MAIL_COLUMNS, rows)
    if any(result.outcome in ("failed", "blocked") for result in results):
        raise typer.Exit(1)


_MAIL_COLUMNS = ("id", "now", "subject", "reason", "parser")


def _print_results(title: str, results: list[Any]) -> None:
    """One column per mailbox, one row per figure (a wide table would fold every name)."""
    names = list(dict.fromkeys(name for result in results for name in result.counts()))
    rows: list[tuple[Any, ...]] = [
        ("outcome", *(result.outcome for result in results)),
        ("run", *(result.run_id for result in results)),
    ]
    rows += [(name, *(result.counts().get(name, 0) for result in results)) for name in names]
    print_table(title, ("", *(result.mailbox for result in results)), rows)
    for result in results:
        if result.errors:
            print_table(
                f"{result.mailbox}: what was not taken in",
                ("kind", "mail", "reason"),
                [(error["kind"], error["subject"], error["message"]) for error in result.errors],
            )


@mail_app.command("templates")
@handles_errors
def templates_command(as_json: JsonOption = False) -> None:
    """The parser templates mail routes can choose, and which mailbox routes use them."""
    from parsers.email import TEMPLATES

    cfg = config()
    used: dict[str, list[str]] = {}
    for mailbox in cfg.sources.mailboxes:
        for number, route in enumerate(mailbox.routes):
            used.setdefault(route.template, []).append(f"{mailbox.name}#{number}")
    templates = [
        {
            "name": template.name,
            "parser": template.parser,
            "description": template.description,
            "routes": used.get(template.name, []),
        }
        for template in sorted(TEMPLATES.values(), key=lambda item: item.name)
    ]
    unknown = sorted(set(used) - set(TEMPLATES))
    if as_json:
        print_json({"templates": templates, "unknown_in_routes": unknown})
        return
    print_table(
        "Mail parser templates",
        ("template", "parser", "what it reads", "routes"),
        [(t["name"], t["parser"], t["description"], ", ".join(t["routes"])) for t in templates],
    )
    if unknown:
        abort(f"routes name templates that do not exist: {', '.join(unknown)}", 2)


@mail_app.command("quarantine")
@handles_errors
def quarantine_command(
    mailbox: MailboxArgument = None,
    reason: ReasonOption = None,
    limit: Annotated[int, typer.Option(min=1, help="at most this many, oldest first")] = 200,
    as_json: JsonOption = False,
) -> None:
    """Quarantined mail: what it is and why no parser could read it."""
    from mailbox.reprocess import quarantined_rows

    if mailbox is not None:
        _chosen(config(), mailbox)
    with opened_store() as store:
        rows = quarantined_rows(store, mailbox, reason=reason, limit=limit)
    documents = [
        {
            "id": row.id,
            "mailbox": row.account,
            "message_id": row.message_id,
            "sender": row.sender,
            "subject": row.subject,
            "reason": row.reason,
            "error_kind": row.error_kind,
            "parser": row.parser,
            "template": row.template,
            "size": row.size,
            "complete": row.complete,
            "arrived_in": row.folder,
            "location": row.location,
            "move_due": row.moved_at is None,
            "received_at": row.received_at,
            "first_seen_at": row.first_seen_at,
            "attempts": row.attempts,
        }
        for row in rows
    ]
    if as_json:
        print_json(documents)
        return
    print_table(
        "Quarantined mail",
        ("id", "mailbox", "received", "from", "subject", "reason", "parser", "where"),
        [
            (
                item["id"],
                item["mailbox"],
                item["received_at"].strftime("%Y-%m-%d %H:%M") if item["received_at"] else "",
                item["sender"],
                item["subject"],
                item["reason"],
                item["parser"],
                item["location"],
            )
            for item in documents
        ],
    )
