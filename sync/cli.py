"""Commands: parse-page (read a saved portal page), problems (what could not be taken in)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select

from parsers.portals import families, parse_page
from quaysync.cli import abort, handles_errors, opened_store, print_json, print_table
from quaysync.model import ParseContext
from store import ProblemRow

JsonOption = Annotated[bool, typer.Option("--json", help="print JSON instead of a table")]


def register(app: typer.Typer) -> None:
    app.command("parse-page")(parse_page_command)
    app.command("problems")(problems_command)


@handles_errors
def parse_page_command(
    file: Annotated[Path, typer.Argument(help="a saved page (HTML or the JSON a portal page loaded)")],
    family: Annotated[str, typer.Option(help="portal family, e.g. tideworks (or tideworks_a295)")],
    page: Annotated[str, typer.Option(help="which page of the family it is, e.g. container_detail")],
    time_zone: Annotated[str | None, typer.Option(help="IANA zone of the page's local times")] = None,
    as_json: JsonOption = False,
) -> None:
    """Print the observations a family's parser reads from a saved portal page."""
    if not file.is_file():
        abort(f"{file}: no such file", 2)
    context = ParseContext(
        source=f"portal:{family}",
        source_ref=str(file),
        observed_at=datetime.fromtimestamp(file.stat().st_mtime, UTC),
        time_zone=time_zone,
    )
    observations = parse_page(family, page, file.read_bytes(), context)
    if as_json:
        print_json(
            {
                "family": family,
                "page": page,
                "file": str(file),
                "observations": [observation.to_json() for observation in observations],
            }
        )
        return
    if not observations:
        known = ", ".join(families().get(family, []))
        typer.echo(f"{file}: no container data on this page (known pages: {known})")
        return
    for observation in observations:
        rows = [(name, value) for name, value in observation.fields.items()]
        print_table(f"{observation.subject} — {observation.parser}", ("field", "as the page states it"), rows)


@handles_errors
def problems_command(
    source: Annotated[str | None, typer.Option(help="only this source, e.g. mail:carrier-inbox")] = None,
    kind: Annotated[str | None, typer.Option(help="business, bad_input, layout_changed, ...")] = None,
    limit: Annotated[int, typer.Option(min=1, help="newest first, at most this many")] = 50,
    as_json: JsonOption = False,
) -> None:
    """What could not be taken in, and why (invalid container numbers, bad rows, ...)."""
    query = select(ProblemRow).order_by(ProblemRow.id.desc()).limit(limit)
    if source:
        query = query.where(ProblemRow.source == source)
    if kind:
        query = query.where(ProblemRow.kind == kind)
    with opened_store() as store, store.session() as session:
        problems = session.execute(query).scalars().all()
    if as_json:
        print_json([problem.model_dump() for problem in problems])
        return
    print_table(
        "Problems",
        ("when", "source", "kind", "subject", "reason", "where"),
        [
            (p.created_at.strftime("%Y-%m-%d %H:%M"), p.source, p.kind, p.subject_key, p.reason, p.source_ref)
            for p in problems
        ],
    )
