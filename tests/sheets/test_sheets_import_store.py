"""Imports into a real store (SQLite and PostgreSQL): links, tracked containers, runs, problems,
idempotent re-import, and the scheduled scan that re-reads only new or changed files."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sheet_files import BAD_CHECK, BOX_A, BOX_B, BOX_C, erp_orders_sheet, write_rows, xlsx
from sqlalchemy import func, select

from quaysync.config import Config, ImportSource, parse_config
from store import (
    ContainerStatusRow,
    EventRow,
    ObservationRow,
    OrderLinkRow,
    ProblemRow,
    RunRow,
    ShipmentRow,
    SourceStateRow,
    Store,
)
from sync.imports import import_file, run_import_source

TABLES = (ObservationRow, EventRow, ContainerStatusRow, OrderLinkRow, ShipmentRow, ProblemRow)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return parse_config({"data_dir": str(tmp_path / "var")}, tmp_path)


def counts(store: Store) -> dict[str, int]:
    with store.session() as session:
        return {
            table.__tablename__: session.execute(select(func.count()).select_from(table)).scalar_one()
            for table in TABLES
        }


def test_import_links_tracks_containers_and_reports_bad_rows(
    any_store: Store, config: Config, tmp_path: Path
) -> None:
    path = xlsx(tmp_path / "erp.xlsx", erp_orders_sheet(), merges={"订单": ["A1:F1"]})
    source = ImportSource(name="erp", path=str(path), time_zone="Asia/Shanghai")

    result = import_file(config, any_store, path, source=source)

    assert result.outcome == "partial" and result.error is None
    assert (result.containers, result.containers_new, result.links_added) == (2, 2, 3)
    assert [(issue.row, issue.kind) for issue in result.problems] == [
        (5, "business"),
        (8, "bad_input"),
        (10, "bad_input"),
    ]
    with any_store.session() as session:
        links = session.execute(
            select(
                OrderLinkRow.order_ref,
                OrderLinkRow.bill_of_lading,
                OrderLinkRow.container_number,
                OrderLinkRow.customer,
            )
        ).all()
        assert sorted(links) == [
            ("PO-1001", "MAEU240001234", BOX_A, "宁波贸易"),
            ("PO-1001", "MAEU240001234", BOX_B, "宁波贸易"),
            ("PO-1003", "COSU8001234560", "", "Acme Imports"),
        ]
        tracked = {row.container_number: row for row in session.execute(select(ContainerStatusRow)).scalars()}
        assert set(tracked) == {BOX_A, BOX_B}  # the watchlist became tracked containers
        assert tracked[BOX_A].bill_of_lading == "MAEU240001234" and tracked[BOX_A].tracking == "active"
        # the ERP's ETA (a Shanghai date) is the vessel's estimate until a better source says more
        assert tracked[BOX_A].vessel_eta.isoformat() == "2026-12-02T16:00:00+00:00"
        assert session.get(ShipmentRow, "MAEU240001234").customer == "宁波贸易"
        problems = session.execute(select(ProblemRow).order_by(ProblemRow.id)).scalars().all()
        assert [(p.source, p.source_ref.rsplit("#", 1)[1], p.kind) for p in problems] == [
            ("import:erp", "订单!R5", "business"),
            ("import:erp", "订单!R8", "bad_input"),
            ("import:erp", "订单!R10", "bad_input"),
        ]
        assert problems[0].subject_key == BAD_CHECK and "expected 5" in problems[0].reason
        assert problems[0].raw["cells"][:2] == ["PO-1002", "宁波贸易"]
        run = session.get(RunRow, result.run_id)
        assert (run.source, run.kind, run.outcome) == ("import:erp", "import", "partial")
        assert run.counts["containers"] == 2 and run.counts["problems"] == 3
        assert run.errors[0]["message"].startswith("订单 row 5: invalid container number")
        assert run.evidence == [str(path)]


def test_re_import_adds_nothing(any_store: Store, config: Config, tmp_path: Path) -> None:
    path = xlsx(tmp_path / "erp.xlsx", erp_orders_sheet())
    first = import_file(config, any_store, path)
    before = counts(any_store)
    assert before["order_link"] == 3 and before["problem"] == 3

    again = import_file(config, any_store, path)

    assert counts(any_store) == before
    assert (again.links_added, again.containers_new, again.ingest["added_observations"]) == (0, 0, 0)
    assert again.ingest["added_events"] == 0 and len(again.problems) == 3  # still reported, not re-stored
    assert again.source == first.source == "import:file"

    # the same rows in another order, with an extra blank line: still nothing new
    sheet = erp_orders_sheet()["订单"]
    shuffled = [sheet[2], *reversed(sheet[3:]), [None] * 6]
    os.utime(write_rows(tmp_path / "erp.xlsx", shuffled), (1_700_000_000, 1_700_000_000))
    third = import_file(config, any_store, path)
    assert counts(any_store)["order_link"] == 3 and third.links_added == 0
    after = counts(any_store)
    assert after["container_status"] == 2 and after["event"] == before["event"]


def test_unreadable_file_and_missing_header_are_recorded_runs(
    sqlite_store: Store, config: Config, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 half a download")
    failed = import_file(config, sqlite_store, broken)
    assert failed.outcome == "failed" and failed.error_kind == "bad_input" and "broken.xlsx" in failed.error

    no_header = write_rows(tmp_path / "people.xlsx", [["Name", "Phone"], ["Li", "123"]])
    layout = import_file(config, sqlite_store, no_header)
    assert layout.outcome == "layout_changed" and "no header row" in layout.error

    with sqlite_store.session() as session:
        runs = session.execute(select(RunRow.outcome, RunRow.errors).order_by(RunRow.id)).all()
        assert [outcome for outcome, _ in runs] == ["failed", "layout_changed"]
        assert runs[1][1][0]["kind"] == "layout_changed"
        assert session.execute(select(func.count()).select_from(ProblemRow)).scalar_one() == 2
        assert session.execute(select(func.count()).select_from(ContainerStatusRow)).scalar_one() == 0


def test_every_row_bad_is_a_failed_run_with_nothing_stored(
    sqlite_store: Store, config: Config, tmp_path: Path
) -> None:
    path = write_rows(
        tmp_path / "bad.xlsx", [["Container", "PO"], [BAD_CHECK, "PO-1"], ["ABCU0000000", "PO-2"]]
    )
    result = import_file(config, sqlite_store, path)
    assert result.outcome == "failed" and result.observations == 0 and len(result.problems) == 2
    assert counts(sqlite_store)["container_status"] == 0


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[tuple[Config, ImportSource, Path]]:
    folder = tmp_path / "inbox"
    folder.mkdir()
    config = parse_config(
        {"data_dir": "var", "sources": {"imports": [{"name": "wms", "path": "inbox", "customer": "Acme"}]}},
        tmp_path,
    )
    yield config, config.sources.imports[0], folder


def test_scheduled_folder_reads_new_and_changed_files_only(sqlite_store: Store, watched) -> None:
    config, source, folder = watched
    write_rows(folder / "week1.xlsx", [["Container", "PO"], [BOX_A, "PO-1"]])
    (folder / "~$week1.xlsx").write_bytes(b"lock file of an open workbook")
    (folder / "readme.txt.part").write_text("partial download")

    first = run_import_source(config, source, sqlite_store, trigger="schedule")
    assert [Path(result.file).name for result in first] == ["week1.xlsx"]
    assert first[0].containers_new == 1

    assert run_import_source(config, source, sqlite_store) == []  # unchanged: not re-read, no run

    write_rows(folder / "week2.xlsx", [["Container", "PO"], [BOX_B, "PO-2"]])
    write_rows(folder / "week1.xlsx", [["Container", "PO"], [BOX_A, "PO-1"], [BOX_C, "PO-3"]])
    second = run_import_source(config, source, sqlite_store)
    assert sorted(Path(result.file).name for result in second) == ["week1.xlsx", "week2.xlsx"]
    assert sum(result.containers_new for result in second) == 2

    with sqlite_store.session() as session:
        runs = session.execute(select(RunRow.source, RunRow.trigger).order_by(RunRow.id)).all()
        assert runs == [("import:wms", "schedule")] * 3
        customers = set(session.execute(select(OrderLinkRow.customer)).scalars())
        assert customers == {"Acme"}  # the source's customer, for rows that name none
        state = (
            session.execute(select(SourceStateRow).where(SourceStateRow.source == "import:wms"))
            .scalars()
            .all()
        )
        assert len(state) == 2 and all(len(row.value["sha256"]) == 64 for row in state)


def test_disabled_source_and_missing_path_import_nothing(sqlite_store: Store, tmp_path: Path) -> None:
    config = parse_config(
        {
            "sources": {
                "imports": [
                    {"name": "off", "path": "x.xlsx", "enabled": False},
                    {"name": "gone", "path": "none/*.xlsx"},
                ]
            }
        },
        tmp_path,
    )
    write_rows(tmp_path / "x.xlsx", [["Container"], [BOX_A]])
    assert run_import_source(config, config.sources.imports[0], sqlite_store) == []
    assert run_import_source(config, config.sources.imports[1], sqlite_store) == []


def test_config_errors_name_the_key(tmp_path: Path) -> None:
    from quaysync.errors import ConfigError

    with pytest.raises(ConfigError) as raised:
        parse_config(
            {"sources": {"imports": [{"name": "erp", "path": "x", "columns": {"po": ["PO No."]}}]}}, tmp_path
        )
    assert "sources.imports[0].columns: unknown field(s) po" in str(raised.value)
    with pytest.raises(ConfigError) as raised:
        parse_config({"exports": [{"name": "c", "path": "c.xlsx", "per_customer": True}]}, tmp_path)
    assert "exports[0]: per_customer needs {customer} in path" in str(raised.value)
    with pytest.raises(ConfigError) as raised:
        parse_config({"exports": [{"name": "c", "path": "c.xlsx", "time_zone": "Moon/Base"}]}, tmp_path)
    assert "exports[0].time_zone" in str(raised.value)
