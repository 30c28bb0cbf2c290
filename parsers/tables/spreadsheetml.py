"""Excel 2003 XML ("SpreadsheetML") → Tables: what many portals export under an .xls name.

Parsed with defusedxml: a DOCTYPE, an entity declaration or an external reference is refused.
ss:Index skips rows and columns (kept as blank cells, so row numbers match what Excel shows);
ss:MergeAcross leaves the covered cells ''.
"""

from __future__ import annotations

from datetime import datetime

import defusedxml.ElementTree as SafeElementTree
from defusedxml import DefusedXmlException

from quaysync.errors import BadInputError

from .cells import render_datetime, render_float
from .model import Table
from .safety import MAX_TABLE_CELLS, reject_xml_declarations

_SS = "{urn:schemas-microsoft-com:office:spreadsheet}"
_MAX_ROWS = 1_048_576
_MAX_COLUMNS = 16_384


def _index(element: object, current: int, limit: int, what: str) -> int:
    raw = element.get(f"{_SS}Index")  # type: ignore[attr-defined]
    if raw is None:
        return current
    try:
        index = int(raw)
    except ValueError:
        raise BadInputError(f"SpreadsheetML rejected: {what} index {raw!r} is not a number") from None
    if not current <= index <= limit:
        raise BadInputError(f"SpreadsheetML rejected: {what} index {index} out of order or beyond {limit:,}")
    return index


def _data_text(data: object) -> str:
    text = "".join(data.itertext())  # type: ignore[attr-defined]
    kind = data.get(f"{_SS}Type", "String")  # type: ignore[attr-defined]
    if kind == "Number":
        try:
            return render_float(float(text))
        except ValueError:
            return text
    if kind == "DateTime":
        try:
            return render_datetime(datetime.fromisoformat(text.strip()))
        except ValueError:
            return text
    if kind == "Boolean":
        return "TRUE" if text.strip() in ("1", "true", "TRUE") else "FALSE"
    return text


def read_spreadsheetml(content: bytes) -> list[Table]:
    reject_xml_declarations(content, "SpreadsheetML")
    try:
        root = SafeElementTree.fromstring(content)
    except DefusedXmlException as error:
        raise BadInputError(f"SpreadsheetML rejected: {type(error).__name__} (unsafe XML)") from None
    except SafeElementTree.ParseError as error:
        raise BadInputError(f"SpreadsheetML could not be parsed: {error}") from None
    tables: list[Table] = []
    cells = 0
    for number, worksheet in enumerate(root.iter(f"{_SS}Worksheet"), start=1):
        name = worksheet.get(f"{_SS}Name") or f"Sheet{number}"
        rows: list[list[str]] = []
        for table in worksheet.iter(f"{_SS}Table"):
            for row_element in table.iter(f"{_SS}Row"):
                row_number = _index(row_element, len(rows) + 1, _MAX_ROWS, "row")
                skipped = row_number - 1 - len(rows)
                cells += skipped
                rows.extend([] for _ in range(skipped))
                row: list[str] = []
                for cell in row_element.iter(f"{_SS}Cell"):
                    column = _index(cell, len(row) + 1, _MAX_COLUMNS, "column")
                    row.extend([""] * (column - 1 - len(row)))
                    data = cell.find(f"{_SS}Data")
                    row.append(_data_text(data) if data is not None else "")
                    merge = cell.get(f"{_SS}MergeAcross")
                    if merge and merge.isdigit():
                        row.extend([""] * min(int(merge), _MAX_COLUMNS - len(row)))
                cells += len(row) + 1
                if cells > MAX_TABLE_CELLS:
                    raise BadInputError(f"SpreadsheetML rejected: more than {MAX_TABLE_CELLS:,} cells")
                rows.append(row)
        tables.append(Table(name=name, rows=rows))
    if not tables:
        raise BadInputError("SpreadsheetML without any worksheet")
    return tables
