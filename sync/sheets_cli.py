"""Commands: import / import-links (order ↔ B/L ↔ container sheets), export (the analysts' workbook)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from quaysync.cli import abort, config, handles_errors, opened_store, print_json, print_table
from quaysync.config import ExportOptions, ImportSource
from quaysync.config import describe_errors as _describe

JsonOption = Annotated[bool, typer.Option("--json", help="print JSON instead of tables")]
SourceOption = Annotated[
    str | None,
    typer.Option("--source", "-s", help="a configured sources.imports name (its aliases, customer, zone)"),
]
CustomerOption = Annotated[str | None, typer.Option(help="customer for rows that do not name one")]
SheetOption = Annotated[
    str | None, typer.Option(help="only this worksheet (default: every sheet with a header)")
]
ZoneOption = Annotated[str | None, typer.Option("--time-zone", help="IANA zone of the sheet's dates (ETA)")]
FileArgument = Annotated[Path, typer.Argument(help="an .xlsx / .xls / .csv export or an analyst's sheet")]

MAX_PROBLEMS_SHOWN = 200


def register(app: typer.Typer) -> None:
    app.command("import")(import_command)
    app.command("import-links")(import_links_command)
    app.command("export")(export_command)


def _import_source(name: str | None, file: Path, overrides: dict[str, object]) -> ImportSource:
    given = {key: value for key, value in overrides.items() if value is not None}
    if name is None:
        base: dict[str, object] = {"name": "file", "path": str(file)}
    else:
        configured = {source.name: source for source in config().sources.imports}
        if name not in configured:
            known = ", ".join(sorted(configured)) or "none configured"
            abort(f"unknown import source {name!r} (sources.imports: {known})", 2)
        base = configured[name].model_dump()
    try:
        return ImportSource.model_validate({**base, **given})
    except ValidationError as error:
        abort("; ".join(_describe(error, ImportSource)), 2)


def _run_import(
    file: Path,
    source_name: str | None,
    *,
    links_only: bool | None,
    customer: str | None,
    sheet: str | None,
    time_zone: str | None,
    as_json: bool,
) -> None:
    from sync.imports import import_file

    if not file.is_file():
        abort(f"{file}: no such file", 2)
    source = _import_source(
        source_name,
        file,
        {"customer": customer, "sheet": sheet, "time_zone": time_zone, "links_only": links_only},
    )
    with opened_store() as store:
        result = import_file(config(), store, file, source=source, trigger="manual")
    if as_json:
        print_json(result.to_json())
    else:
        _print_import(result)
    if result.error:
        abort(result.error, 2 if result.error_kind == "bad_input" else 1)
    if result.outcome == "failed":
        abort(f"{file.name}: no row could be imported ({len(result.problems)} bad rows)", 1)


def _print_import(result: object) -> None:
    from sync.imports import ImportResult

    assert isinstance(result, ImportResult)
    sheets = ", ".join(f"{name} (header on row {row})" for name, row in result.sheets.items()) or "-"
    print_table(
        f"Import {Path(result.file).name} as {result.source} — {result.outcome} (run {result.run_id})",
        ("", ""),
        [
            ("sheets", sheets),
            ("rows read", result.rows),
            ("containers", f"{result.containers} ({result.containers_new} new)"),
            ("bills of lading", result.bills_of_lading),
            ("links added", result.links_added),
            ("duplicate rows", result.duplicates),
            ("skipped rows", len(result.skipped)),
            ("bad rows", len(result.problems)),
        ],
    )
    if result.problems:
        rows = [(issue.sheet, issue.row, issue.reason) for issue in result.problems[:MAX_PROBLEMS_SHOWN]]
        print_table("Bad rows (not imported)", ("sheet", "row", "reason"), rows)
        if len(result.problems) > MAX_PROBLEMS_SHOWN:
            more = len(result.problems) - MAX_PROBLEMS_SHOWN
            typer.echo(f"... and {more} more: run.py problems --source {result.source}")
    if result.skipped:
        rows = [(issue.sheet, issue.row, issue.reason) for issue in result.skipped[:MAX_PROBLEMS_SHOWN]]
        print_table("Skipped rows (summary lines, repeated headers)", ("sheet", "row", "reason"), rows)


@handles_errors
def import_command(
    file: FileArgument,
    source: SourceOption = None,
    links: Annotated[
        bool, typer.Option("--links", help="read only order, B/L, container and customer columns")
    ] = False,
    customer: CustomerOption = None,
    sheet: SheetOption = None,
    time_zone: ZoneOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import a watchlist or order ↔ B/L ↔ container links; bad rows are listed with their row numbers.

    Headers may be English or Chinese (订单号, 提单号, 箱号, 客户, 预计到港 ...) and need not be on
    row 1; a cell may hold several containers. Re-importing the same file adds nothing.
    """
    _run_import(
        file,
        source,
        links_only=True if links else None,
        customer=customer,
        sheet=sheet,
        time_zone=time_zone,
        as_json=as_json,
    )


@handles_errors
def import_links_command(
    file: FileArgument,
    source: SourceOption = None,
    customer: CustomerOption = None,
    sheet: SheetOption = None,
    time_zone: ZoneOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import order ↔ B/L ↔ container links (`import --links`): only those columns are read."""
    _run_import(
        file, source, links_only=True, customer=customer, sheet=sheet, time_zone=time_zone, as_json=as_json
    )


def _exports(
    name: str | None,
    path: Path | None,
    overrides: dict[str, object],
) -> list[tuple[ExportOptions, Path | None]]:
    from sync.export import default_export

    configured = {export.name: export for export in config().exports}
    if name is not None:
        if name not in configured:
            known = ", ".join(sorted(configured)) or "none configured"
            abort(f"unknown export {name!r} (exports: {known})", 2)
        chosen = [configured[name]]
    elif path is None and configured and not any(value is not None for value in overrides.values()):
        chosen = list(configured.values())  # `run.py export`: every configured workbook
    else:
        chosen = [default_export(config())]
    exports = []
    for export in chosen:
        document = export.model_dump()
        if path is not None:
            document["path"] = str(path)
        document.update({key: value for key, value in overrides.items() if value is not None})
        if document.get("customer"):
            document["per_customer"] = False
        try:
            exports.append((ExportOptions.model_validate(document), path))
        except ValidationError as error:
            abort("; ".join(_describe(error, ExportOptions)), 2)
    return exports


@handles_errors
def export_command(
    path: Annotated[
        Path | None,
        typer.Argument(help="the .xlsx to write (default: the configured exports, else var/exports)"),
    ] = None,
    name: Annotated[str | None, typer.Option(help="one of config.yaml's exports")] = None,
    customer: Annotated[str | None, typer.Option(help="only this customer's containers")] = None,
    per_customer: Annotated[
        bool | None,
        typer.Option("--per-customer/--all-customers", help="one workbook per customer ({customer} in PATH)"),
    ] = None,
    time_zone: Annotated[
        str | None, typer.Option("--time-zone", help="zone of the times (default: each container's own)")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Write the analysts' workbook: Containers, Events, Exceptions, Sources, Hotspots (atomic replace)."""
    from sync.export import run_export

    overrides = {"customer": customer, "per_customer": per_customer, "time_zone": time_zone}
    results = []
    with opened_store() as store:
        for export, target in _exports(name, path, overrides):
            target_path = target.absolute() if target is not None else None
            results.append(run_export(config(), export, store, trigger="manual", path=target_path))
    if as_json:
        print_json([result.to_json() for result in results])
    else:
        rows = [
            (
                result.name,
                workbook.path,
                workbook.customer or "",
                workbook.containers,
                workbook.events,
                workbook.exceptions,
                "; ".join(workbook.notes),
            )
            for result in results
            for workbook in result.workbooks
        ]
        print_table(
            "Workbooks written",
            ("export", "path", "customer", "containers", "events", "exceptions", "notes"),
            rows,
        )
    failed = [result for result in results if result.error]
    if failed:
        abort("; ".join(str(result.error) for result in failed), 1)
