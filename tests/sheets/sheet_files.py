"""Import files as ERP / WMS exports and analysts' sheets really look, built in the tests.

Each builder writes a real file (openpyxl for .xlsx, the csv module for CSV in UTF-8 or GBK).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

# Valid ISO 6346 numbers (check digits verified by python-stdnum in the tests that need it).
BOX_A = "MSKU1234565"
BOX_B = "TGHU6961213"
BOX_C = "CSQU3054383"
BOX_D = "MEDU1112224"
BOX_E = "OOLU8001000"
BAD_CHECK = "MSKU1234566"  # check digit is 6, expected 5


def xlsx(
    path: Path, sheets: dict[str, Sequence[Sequence[Any]]], merges: dict[str, list[str]] | None = None
) -> Path:
    """A workbook with one sheet per entry (rows as given; None is an empty cell)."""
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(list(row))
        for cells in (merges or {}).get(title, []):
            sheet.merge_cells(cells)
            sheet[cells.split(":")[0]].font = Font(bold=True, size=14)
    book.save(path)
    return path


def csv_file(path: Path, rows: Sequence[Sequence[Any]], encoding: str = "utf-8") -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(["" if value is None else value for value in row])
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def erp_orders_sheet() -> dict[str, list[list[Any]]]:
    """A Chinese ERP export: a merged title row, a blank row, the header on row 3, a cell with two
    containers, an invalid check digit, a B/L-only row, a row without identifiers, a duplicated
    row and a summary line."""
    eta = datetime(2026, 12, 3, 0, 0)
    return {
        "订单": [
            ["2026年12月 进口订单 / 箱号清单", None, None, None, None, None],
            [None, None, None, None, None, None],
            ["订单号", "客户", "提单号", "箱号", "预计到港", "备注"],
            ["PO-1001", "宁波贸易", "MAEU240001234", f"{BOX_A} / {BOX_B}", eta, "急"],
            ["PO-1002", "宁波贸易", "MAEU240001235", BAD_CHECK, eta, None],
            [None, None, None, None, None, None],
            ["PO-1003", "Acme Imports", "COSU8001234560", None, None, "柜号待定"],
            ["PO-1004", "Acme Imports", None, None, None, "no docs yet"],
            ["PO-1001", "宁波贸易", "MAEU240001234", f"{BOX_A} / {BOX_B}", eta, "急"],
            ["PO-1005", "Acme Imports", "B/L ???", BOX_C, None, None],
            ["合计", None, None, "4", None, None],
        ]
    }


def write_rows(path: Path, rows: Sequence[Sequence[Any]]) -> Path:
    """A one-sheet workbook 'Sheet1' of `rows`."""
    return xlsx(path, {"Sheet1": rows})
