"""Reading import files (pure, no store): messy real-world shapes in, observations and bad rows out."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sheet_files import BAD_CHECK, BOX_A, BOX_B, BOX_C, BOX_D, BOX_E, csv_file, erp_orders_sheet, xlsx

from quaysync.errors import BadInputError, LayoutChangedError
from sync.imports import read_import, split_container_cell

SEEN = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def read(path: Path, **options):
    return read_import(
        path.name,
        path.read_bytes(),
        source="import:test",
        source_ref=str(path),
        observed_at=SEEN,
        **options,
    )


def by_container(reading) -> dict[str, dict]:
    return {
        str(observation.fields["container_no"]): dict(observation.fields)
        for observation in reading.observations
        if observation.subject == "container"
    }


def test_chinese_erp_export_with_title_rows_and_bad_rows(tmp_path: Path) -> None:
    reading = read(xlsx(tmp_path / "erp.xlsx", erp_orders_sheet(), merges={"订单": ["A1:F1"]}))

    assert reading.sheets == {"订单": 3}  # the header was found on row 3, under a merged title
    assert reading.columns["订单"] == {
        "order_ref": "订单号",
        "customer": "客户",
        "mbl_no": "提单号",
        "container_no": "箱号",
        "eta": "预计到港",
    }
    containers = by_container(reading)
    assert set(containers) == {BOX_A, BOX_B}  # two containers in one cell, one observation each
    assert containers[BOX_A]["order_ref"] == "PO-1001" and containers[BOX_B]["mbl_no"] == "MAEU240001234"
    assert containers[BOX_A]["eta"] == "2026-12-03" and containers[BOX_A]["备注"] == "急"
    bills = [o for o in reading.observations if o.subject == "bill_of_lading"]
    assert [(o.fields["order_ref"], o.fields["mbl_no"]) for o in bills] == [("PO-1003", "COSU8001234560")]
    assert bills[0].source_ref == f"{tmp_path / 'erp.xlsx'}#订单!R7"

    problems = {issue.row: issue for issue in reading.problems}
    assert sorted(problems) == [5, 8, 10]
    assert problems[5].reason == f"invalid container number {BAD_CHECK!r}: check digit is 6, expected 5"
    assert problems[5].kind == "business" and problems[5].subject == BAD_CHECK
    assert problems[8].reason == "no identifiers: no container number and no B/L"
    assert problems[10].reason.startswith("unknown B/L format 'B/L ???'")
    assert [(issue.row, issue.reason.split(" (")[0]) for issue in reading.skipped] == [(11, "summary line")]
    assert reading.duplicates == 2  # row 9 repeats row 4 (both of its containers)
    assert reading.rows == 3  # rows 4, 7 and 9 gave observations


def test_blank_cells_say_nothing_and_only_booking_columns_are_read(tmp_path: Path) -> None:
    path = xlsx(
        tmp_path / "watch.xlsx",
        {
            "Watchlist": [
                ["Container No.", "Customer", "ETA", "Status", "Last Free Day", "Remarks"],
                [BOX_A, "", "", "Discharged", "2026-12-01", "call broker"],
            ]
        },
    )
    reading = read(path, time_zone="Asia/Shanghai")
    (observation,) = reading.observations
    assert "customer" not in observation.fields and "eta" not in observation.fields
    # kept verbatim, never interpreted: an analyst's notes are not a terminal's status
    assert (
        observation.fields["status"] == "Discharged" and observation.fields["last_free_day"] == "2026-12-01"
    )
    assert observation.meanings == {"status": None, "last_free_day": None}
    assert observation.time_zone == "Asia/Shanghai" and observation.observed_at == SEEN


def test_links_only_reads_nothing_but_the_links(tmp_path: Path) -> None:
    path = xlsx(
        tmp_path / "links.xlsx",
        {"L": [["PO", "B/L No.", "Container", "ETA"], ["PO-9", "MAEU123456", BOX_A, "2026-12-01"]]},
    )
    (observation,) = read(path, links_only=True).observations
    assert observation.meanings == {"eta": None} and observation.fields["order_ref"] == "PO-9"


def test_gbk_csv_with_source_aliases_and_default_customer(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path / "wms.csv",
        [
            ["仓库出入库导出", "", ""],
            ["采购单据", "柜号", "到港日"],
            ["SO-77", f"{BOX_C}\n{BOX_D}", "2026/12/05"],
            ["SO-78", f"{BOX_E}, {BOX_A}", ""],
        ],
        encoding="gbk",
    )
    reading = read(
        path, extra_aliases={"order_ref": ["采购单据"], "eta": ["到港日"]}, default_customer="Acme"
    )
    containers = by_container(reading)
    assert set(containers) == {BOX_C, BOX_D, BOX_E, BOX_A}
    assert containers[BOX_D] == {
        "order_ref": "SO-77",
        "container_no": BOX_D,
        "eta": "2026/12/05",
        "customer": "Acme",
    }
    assert containers[BOX_A]["order_ref"] == "SO-78" and "eta" not in containers[BOX_A]
    assert reading.problems == [] and reading.sheets == {"csv": 2}


def test_every_sheet_with_a_header_is_read_unless_one_is_named(tmp_path: Path) -> None:
    path = xlsx(
        tmp_path / "two.xlsx",
        {
            "Notes": [["This workbook lists our open orders"], ["Ask Li for changes"]],
            "Sea": [["Order No", "Container"], ["PO-1", BOX_A]],
            "Rail": [["Order No", "Container"], ["PO-2", BOX_B]],
        },
    )
    assert set(by_container(read(path))) == {BOX_A, BOX_B}
    assert set(by_container(read(path, sheet="Rail"))) == {BOX_B}
    with pytest.raises(BadInputError, match=r"no worksheet 'Air'.*'Sea'"):
        read(path, sheet="Air")


def test_no_header_anywhere_is_a_layout_error_and_garbage_is_bad_input(tmp_path: Path) -> None:
    path = xlsx(tmp_path / "nothing.xlsx", {"S": [["Name", "Phone"], ["Li", "123"]]})
    with pytest.raises(LayoutChangedError, match="no header row naming a container or B/L column"):
        read(path)
    garbage = tmp_path / "broken.xlsx"
    garbage.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(BadInputError):
        read(garbage)


@pytest.mark.parametrize(
    ("cell", "numbers", "bad"),
    [
        (f"{BOX_A} / {BOX_B}", [BOX_A, BOX_B], []),
        (f"{BOX_A}\n{BOX_B}\r\n{BOX_C}", [BOX_A, BOX_B, BOX_C], []),
        (f"{BOX_A}，{BOX_B}、{BOX_C}", [BOX_A, BOX_B, BOX_C], []),
        ("MSKU 123456-5", ["MSKU 123456-5"], []),
        (f"{BOX_A} {BOX_B}", [BOX_A, BOX_B], []),
        (f"{BOX_A} and {BOX_B}", [BOX_A, BOX_B], []),
        (f"{BOX_A}; {BAD_CHECK}", [BOX_A], [(BAD_CHECK, "check digit is 6, expected 5")]),
        ("MSKU12345", [], [("MSKU12345", "9 characters, expected 11")]),
    ],
)
def test_several_containers_in_one_cell(cell: str, numbers: list[str], bad: list[tuple[str, str]]) -> None:
    assert split_container_cell(cell) == (numbers, bad)


def test_html_posing_as_xls_from_an_erp(tmp_path: Path) -> None:
    """Many ERPs 'export to Excel' as an HTML table named .xls; the bytes decide, not the name."""
    html = (
        "<html><head><meta charset='utf-8'></head><body><table>"
        "<tr><td colspan='3'>订单跟踪表</td></tr>"
        "<tr><th>订单号</th><th>提单号</th><th>箱号</th></tr>"
        f"<tr><td>PO-7</td><td>OOLU2712345670</td><td>{BOX_E}<br>{BOX_D}</td></tr>"
        "</table></body></html>"
    )
    path = tmp_path / "export.xls"
    path.write_bytes(html.encode("utf-8"))
    reading = read(path)
    assert set(by_container(reading)) == {BOX_E, BOX_D}
    assert {o.fields["mbl_no"] for o in reading.observations} == {"OOLU2712345670"}
