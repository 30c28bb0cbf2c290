"""The "Export to Excel" download: every row of the current search (not just the page) as .xlsx."""

from __future__ import annotations

import io
from datetime import datetime

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from sandbox.portal.labels import Labels
from sandbox.portal.views import ResultRow

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_TITLES = {"en": ("Container Availability", "Exported"), "zh": ("集装箱提箱查询", "导出时间")}


def export_workbook(rows: list[ResultRow], labels: Labels, local_now: datetime) -> bytes:
    """A title row, an "exported at" row, a blank row, then the header row and one row per container.

    Values are the page's own strings (dates as text, as many terminal exports write them).
    """
    title, exported = _TITLES[labels.language]
    headers = labels.result_headers()
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Containers" if labels.language == "en" else "集装箱"
    sheet.append([f"{labels.texts['terminal']} - {title}"])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append([exported, labels.timestamp(local_now)])
    sheet.append([])
    sheet.append([label for _key, label in headers])
    header_fill = PatternFill("solid", fgColor="336699")
    for cell in sheet[4]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = header_fill
    status_column = [key for key, _label in headers].index("status")
    for row in rows:
        if row.kind == "found":
            sheet.append([row.cells[key] for key, _label in headers])
        else:
            values = [""] * len(headers)
            values[0] = row.container_no
            values[status_column] = row.message
            sheet.append(values)
    for column, (key, _label) in zip(sheet.columns, headers, strict=False):
        sheet.column_dimensions[column[0].column_letter].width = 22 if key in ("holds", "vessel") else 16
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
