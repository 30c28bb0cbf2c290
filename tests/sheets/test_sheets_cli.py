"""The commands: import, import-links and export, as an analyst or ops would type them."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import typer
from openpyxl import load_workbook
from sheet_files import BAD_CHECK, BOX_A, BOX_B, erp_orders_sheet, write_rows, xlsx
from sqlalchemy import select
from typer.testing import CliRunner

from quaysync.cli import STATE
from store import OrderLinkRow, RunRow, open_store
from sync import sheets_cli


@pytest.fixture
def run(tmp_path: Path) -> Iterator[Callable]:
    """This room's commands against a config of its own (a SQLite store in tmp_path)."""
    (tmp_path / "config.yaml").write_text(
        f"data_dir: {tmp_path}/var\n"
        f"store:\n  url: sqlite:///{tmp_path}/var/quaysync.db\n"
        "sources:\n  imports:\n"
        "    - name: erp\n      path: inbox\n      customer: Acme\n      time_zone: Asia/Shanghai\n"
        "      columns: {order_ref: [采购单据]}\n"
        "exports:\n"
        f"  - name: daily\n    path: {tmp_path}/exports/daily.xlsx\n"
        f"  - name: customers\n    path: {tmp_path}/exports/by-customer/{{customer}}.xlsx\n"
        "    per_customer: true\n",
        encoding="utf-8",
    )
    app = typer.Typer()
    sheets_cli.register(app)
    previous = (STATE.config_path, STATE._config)
    STATE.config_path, STATE._config = tmp_path / "config.yaml", None
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, [str(arg) for arg in args])

    yield invoke
    STATE.config_path, STATE._config = previous


def store_rows(tmp_path: Path, statement) -> list:
    store = open_store(f"sqlite:///{tmp_path}/var/quaysync.db")
    try:
        with store.session() as session:
            return list(session.execute(statement).all())
    finally:
        store.dispose()


def test_import_prints_bad_rows_with_numbers_and_json(run, tmp_path: Path) -> None:
    path = xlsx(tmp_path / "erp.xlsx", erp_orders_sheet())
    result = run("import", path)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "import:file" in text and "partial" in text and "header on row 3" in text
    # rich wraps long cells: look for the parts of each reason
    assert "MSKU1234566" in text and "check digit is 6" in text and "expected 5" in text
    assert "no identifiers" in text and "unknown B/L" in text and "summary line" in text

    document = json.loads(run("import", path, "--json").output)
    assert document["outcome"] == "partial" and document["links_added"] == 0  # the second time
    assert [problem["row"] for problem in document["problems"]] == [5, 8, 10]
    assert document["problems"][0]["subject"] == BAD_CHECK


def test_import_with_a_configured_source_and_links_only(run, tmp_path: Path) -> None:
    rows = [["采购单据", "箱号", "预计到港"], ["SO-1", f"{BOX_A}\n{BOX_B}", "2026-12-01"]]
    path = write_rows(tmp_path / "wms.xlsx", rows)
    document = json.loads(run("import-links", path, "--source", "erp", "--json").output)
    assert (document["source"], document["containers"], document["outcome"]) == ("import:erp", 2, "ok")
    links = store_rows(
        tmp_path, select(OrderLinkRow.order_ref, OrderLinkRow.container_number, OrderLinkRow.customer)
    )
    assert sorted(links) == [("SO-1", BOX_A, "Acme"), ("SO-1", BOX_B, "Acme")]
    runs = store_rows(tmp_path, select(RunRow.source, RunRow.kind, RunRow.trigger))
    assert runs == [("import:erp", "import", "manual")]


def test_import_refuses_bad_input_clearly(run, tmp_path: Path) -> None:
    missing = run("import", tmp_path / "nope.xlsx")
    assert missing.exit_code == 2 and "no such file" in missing.output

    unknown = run("import", write_rows(tmp_path / "a.xlsx", [["Container"], [BOX_A]]), "--source", "nope")
    assert unknown.exit_code == 2 and "unknown import source 'nope'" in unknown.output
    assert "erp" in unknown.output  # the configured ones are named

    zone = run("import", tmp_path / "a.xlsx", "--time-zone", "Mars/Olympus")
    assert zone.exit_code == 2 and "time_zone" in zone.output and "IANA" in zone.output

    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not a workbook")
    unreadable = run("import", broken)
    assert unreadable.exit_code == 2 and "broken.xlsx" in unreadable.output

    layout = run("import", write_rows(tmp_path / "people.xlsx", [["Name"], ["Li"]]))
    assert layout.exit_code == 1 and "no header row" in " ".join(layout.output.split())

    all_bad = run("import", write_rows(tmp_path / "bad.xlsx", [["Container"], [BAD_CHECK]]))
    assert all_bad.exit_code == 1 and "no row could be imported" in " ".join(all_bad.output.split())


def test_export_writes_every_configured_workbook_or_one_path(run, tmp_path: Path) -> None:
    assert run("import", xlsx(tmp_path / "erp.xlsx", erp_orders_sheet())).exit_code == 0

    written = json.loads(run("export", "--json").output)
    assert [result["export"] for result in written] == ["daily", "customers"]
    assert all(result["outcome"] == "ok" for result in written)
    book = load_workbook(tmp_path / "exports" / "daily.xlsx")
    assert [row[0] for row in book["Containers"].iter_rows(min_row=2, values_only=True)] == [BOX_A, BOX_B]
    assert sorted(path.name for path in (tmp_path / "exports" / "by-customer").iterdir()) == [
        "Acme Imports.xlsx",
        "宁波贸易.xlsx",
    ]

    single = run("export", tmp_path / "one.xlsx", "--customer", "宁波贸易", "--time-zone", "Asia/Shanghai")
    assert single.exit_code == 0, single.output
    sheet = load_workbook(tmp_path / "one.xlsx")["Containers"]
    assert sheet["G1"].value == "ETA (Asia/Shanghai)" and sheet.max_row == 3
    runs = store_rows(tmp_path, select(RunRow.source, RunRow.outcome).where(RunRow.kind == "export"))
    assert runs == [("export:daily", "ok"), ("export:customers", "ok"), ("export:workbook", "ok")]


def test_export_refuses_bad_options(run, tmp_path: Path) -> None:
    unknown = run("export", "--name", "weekly")
    assert unknown.exit_code == 2 and "unknown export 'weekly'" in unknown.output
    no_placeholder = run("export", tmp_path / "x.xlsx", "--per-customer")
    assert no_placeholder.exit_code == 2 and "{customer}" in no_placeholder.output
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    failed = run("export", blocked / "x.xlsx")
    assert failed.exit_code == 1 and "cannot write" in " ".join(failed.output.split())
