"""Big worksheets parse in row bands, one calamine parse per core.

calamine parses a worksheet on one core (about a microsecond per cell) and releases the GIL while
it does. A 100,000-row carrier report is one big sheet, so the sheet XML (already inflated and
checked by `safety`) is cut at row boundaries into bands; each band becomes a small stored
workbook (same shared strings and styles, that sheet holding only its rows) and the bands are
parsed in parallel threads. The main thread turns each band into text as soon as it is parsed
(that needs the GIL, calamine's parse does not), then stitches them back in order. Row numbers
stay true because every cut falls on an explicitly numbered `<row r="N">`; rows and cells
without numbers continue from there exactly as they would in one piece.

Only done when it is plainly safe: one worksheet in the workbook, an unprefixed `<sheetData>`,
no CDATA, and at least BAND_MIN_BYTES of sheet XML. Anything else takes the one-piece path.
"""

from __future__ import annotations

import os
import zipfile
from concurrent.futures import ThreadPoolExecutor
from io import BytesIO
from itertools import accumulate, pairwise

import python_calamine

from .cells import render_rows

BAND_MIN_BYTES = 8_000_000
# Converting calamine's rows to text (to_python, then render_rows) costs about 0.3 of calamine's
# own parse of them (measured on the bench's 100,000-row sheet).
_GROWTH = 1.3
_ROW_START = b'<row r="'

BandXml = tuple[memoryview, ...]  # a band's sheet XML: the pieces it is the concatenation of


def band_count() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def split_sheet(xml: bytes, bands: int) -> list[tuple[BandXml, int]] | None:
    """[(band sheet XML, 0-based first row of the band)], or None when the sheet will not split.

    A band's XML is the sheet's own head and tail around a slice of its rows, left in pieces
    (views, not copies) until the band's zip is written."""
    open_tag, close_tag = b"<sheetData>", b"</sheetData>"
    start = xml.find(open_tag)
    end = xml.rfind(close_tag)
    # A single byte is found many times faster than a string: most sheets have no "!" at all.
    cdata = b"!" in xml and b"<![CDATA[" in xml
    if bands < 2 or start < 0 or end < start or cdata or xml.count(open_tag) != 1:
        return None
    start += len(open_tag)
    view = memoryview(xml)
    prefix, suffix = view[:start], view[end:]
    # Each band is _GROWTH times the one before: the main thread converts the bands in order as
    # they are parsed, so a band may take as much longer to parse as converting the one before
    # it takes, and the conversions hide behind the parses of the later bands.
    shares = list(accumulate(_GROWTH**band for band in range(bands)))
    cuts = [start]
    for share in shares[:-1]:
        cut = xml.find(_ROW_START, start + int((end - start) * share / shares[-1]), end)
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
        pieces.append(((prefix, view[first:last], suffix), first_row))
    return pieces


def _band_workbook(parts: dict[str, bytes], sheet_part: str, sheet_xml: BandXml) -> bytes:
    """The workbook with the band as its worksheet, stored: nothing to inflate again, and the
    band's pieces are copied once, straight into the zip."""
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, data in parts.items():
            if name != sheet_part:
                archive.writestr(name, data)
                continue
            with archive.open(name, "w") as entry:
                for piece in sheet_xml:
                    entry.write(piece)
    return buffer.getvalue()  # the buffer itself, not a copy (nothing else holds it)


def _parse_band(
    parts: dict[str, bytes], sheet_part: str, sheet_xml: BandXml
) -> tuple[python_calamine.SheetMetadata, python_calamine.CalamineSheet] | None:
    """One band, in its worker thread (the band's stored zip is built there too: its CRC releases
    the GIL). None when the workbook is not one worksheet (a chart sheet beside it, say)."""
    workbook = python_calamine.CalamineWorkbook.from_object(
        BytesIO(_band_workbook(parts, sheet_part, sheet_xml))
    )
    with workbook:
        sheets = workbook.sheets_metadata
        if len(sheets) != 1 or sheets[0].typ != python_calamine.SheetTypeEnum.WorkSheet:
            return None
        return sheets[0], workbook.get_sheet_by_index(0)


def banded_rows(
    parts: dict[str, bytes], sheet_part: str
) -> tuple[python_calamine.SheetMetadata, list[list[str]], int] | None:
    """(the sheet's metadata, its rows as text from sheet row 1, 0-based first column) parsed in
    parallel bands, or None: the sheet does not split, or the workbook is not one worksheet.

    Each band is converted and rendered as soon as it is parsed, while calamine (GIL released)
    is still parsing the others; only a band's padding waits for the others' column span."""
    pieces = split_sheet(parts[sheet_part], band_count())
    if pieces is None:
        return None
    first_rows = [first for _xml, first in pieces]
    metadata = None
    bands: list[tuple[int, tuple[int, int], tuple[int, int], list[list[str]]]] = []
    with ThreadPoolExecutor(max_workers=len(pieces), thread_name_prefix="calamine-band") as pool:
        futures = [pool.submit(_parse_band, parts, sheet_part, xml) for xml, _first in pieces]
        for future, first_row in zip(futures, first_rows, strict=True):
            parsed = future.result()
            if parsed is None:
                return None
            metadata, sheet = parsed
            start, end = sheet.start, sheet.end
            if start is None or end is None:
                continue  # a band without cells (blank rows only)
            # to_python starts at the band's first used cell: the rows above it, which calamine
            # 0.9 also yields from iter_rows (from sheet row 1, whatever the band holds), are never
            # converted.
            bands.append((first_row, start, end, render_rows(sheet.to_python())))
            del parsed, sheet  # calamine's own copy of the band goes before the next is awaited
    if metadata is None:
        return None
    if not bands:
        return metadata, [], 0
    first_column = min(start[1] for _first, start, _end, _rows in bands)
    last_column = max(end[1] for _first, _start, end, _rows in bands)
    width = last_column - first_column + 1
    rows: list[list[str]] = []
    for first_row, start, end, band in bands:
        if start[0] < max(first_row, len(rows)) or len(band) != end[0] - start[0] + 1:
            return None  # cells out of their band (out-of-order references): take the one-piece path
        # Blank rows before the band's first cell, as calamine shows them in one piece.
        rows.extend([""] * width for _ in range(start[0] - len(rows)))
        left = [""] * (start[1] - first_column)
        right = [""] * (last_column - end[1])
        if left or right:
            rows.extend([*left, *row, *right] for row in band)
        else:
            rows.extend(band)
    return metadata, rows, first_column
