"""Big worksheets parse in row bands, one calamine parse per core.

calamine parses a worksheet on one core (about a microsecond per cell) and releases the GIL while
it does. A 100,000-row carrier report is one big sheet, so the sheet XML (already inflated and
checked by `safety`) is cut at row boundaries into bands; each band becomes a small stored
workbook (same shared strings and styles, that sheet holding only its rows) and the bands are
parsed in parallel threads, then stitched back in order. Row numbers stay true because every cut
falls on an explicitly numbered `<row r="N">`; rows and cells without numbers continue from there
exactly as they would in one piece.

Only done when it is plainly safe: one worksheet in the workbook, an unprefixed `<sheetData>`,
no CDATA, and at least BAND_MIN_BYTES of sheet XML. Anything else takes the one-piece path.
"""

from __future__ import annotations

import os
import zipfile
from concurrent.futures import ThreadPoolExecutor
from io import BytesIO
from itertools import islice, pairwise

import python_calamine

BAND_MIN_BYTES = 8_000_000
_ROW_START = b'<row r="'


def band_count() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def split_sheet(xml: bytes, bands: int) -> list[tuple[bytes, int]] | None:
    """[(band sheet XML, 0-based first row of the band)], or None when the sheet will not split."""
    open_tag, close_tag = b"<sheetData>", b"</sheetData>"
    start = xml.find(open_tag)
    end = xml.rfind(close_tag)
    if bands < 2 or start < 0 or end < start or xml.count(open_tag) != 1 or b"<![CDATA[" in xml:
        return None
    start += len(open_tag)
    prefix, suffix = xml[:start], xml[end:]
    cuts = [start]
    for band in range(1, bands):
        cut = xml.find(_ROW_START, start + (end - start) * band // bands, end)
        if cut < 0 or cut <= cuts[-1]:
            break
        cuts.append(cut)
    if len(cuts) < 2:
        return None
    cuts.append(end)
    pieces = []
    for first, last in pairwise(cuts):
        number_end = xml.find(b'"', first + len(_ROW_START), first + len(_ROW_START) + 12)
        try:
            first_row = int(xml[first + len(_ROW_START) : number_end]) - 1 if first != start else 0
        except ValueError:
            return None
        pieces.append((prefix + xml[first:last] + suffix, first_row))
    return pieces


def _band_workbook(parts: dict[str, bytes], sheet_part: str, sheet_xml: bytes) -> bytes:
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, data in parts.items():
            archive.writestr(name, sheet_xml if name == sheet_part else data)
    return buffer.getvalue()


def _parse_band(workbook: bytes, sheet_name: str) -> python_calamine.CalamineSheet:
    return python_calamine.CalamineWorkbook.from_object(BytesIO(workbook)).get_sheet_by_name(sheet_name)


def banded_rows(
    parts: dict[str, bytes], sheet_part: str, sheet_name: str
) -> tuple[list[list[object]], int] | None:
    """(rows from sheet row 1, 0-based first column) parsed in parallel bands, or None."""
    pieces = split_sheet(parts[sheet_part], band_count())
    if pieces is None:
        return None
    workbooks = [_band_workbook(parts, sheet_part, xml) for xml, _first in pieces]
    with ThreadPoolExecutor(max_workers=len(workbooks), thread_name_prefix="calamine-band") as pool:
        sheets = list(pool.map(_parse_band, workbooks, [sheet_name] * len(workbooks)))
    used = [
        (sheet, first) for sheet, (_xml, first) in zip(sheets, pieces, strict=True) if sheet.start is not None
    ]
    if not used:
        return [], 0
    first_column = min(sheet.start[1] for sheet, _ in used)  # type: ignore[index]
    last_column = max(sheet.end[1] for sheet, _ in used)  # type: ignore[index]
    width = last_column - first_column + 1
    rows: list[list[object]] = []
    for sheet, first_row in used:
        if len(rows) < first_row:  # blank rows between two bands' cells, as calamine shows them
            rows.extend([""] * width for _ in range(first_row - len(rows)))
        left = [""] * (sheet.start[1] - first_column)  # type: ignore[index]
        right = [""] * (last_column - sheet.end[1])  # type: ignore[index]
        # calamine 0.9 yields a sheet's rows from row 1 whatever the band holds: skip to the band.
        band = islice(sheet.iter_rows(), first_row, None)
        rows.extend((left + row + right for row in band) if left or right else band)
    if len(rows) != max(sheet.end[0] for sheet, _ in used) + 1:  # type: ignore[index]
        return None  # a calamine that numbers rows differently: take the one-piece path
    return rows, first_column
