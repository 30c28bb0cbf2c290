"""A streaming .xlsx writer: openpyxl builds the workbook, the data rows are streamed in.

openpyxl (write-only) makes everything that has to be right for Excel and LibreOffice: the
package, styles (cellXfs, number formats, fills), sheet views with the frozen header row, column
widths, the header rows, the autofilter and its defined name. The data rows (tens of thousands of
containers, hundreds of thousands of events) are serialized here as `<row>` elements with
openpyxl's own style ids and streamed into each sheet's `<sheetData>` of the final zip, while a
second thread compresses (zlib releases the GIL). openpyxl spends most of its time per cell — a
Cell object, an lxml element, attribute dictionaries — in write-only mode as in the default one;
this spends about a twentieth of that. What a cell is — its kind, its XML, the shared strings —
lives in sync/export/cells.py.

Two choices keep the XML small (half of what openpyxl writes), which is most of the time saved:
- texts go to a shared-strings table (xl/sharedStrings.xml, added to the package's content
  types and relationships): a container number repeated by ten events is stored once;
- cells are written without their optional `r` reference (ECMA-376 §18.3.1.4: a cell without
  one follows the previous cell of its row; a blank cell in between is an empty `<c/>`). Excel,
  LibreOffice, openpyxl and calamine read that; rows keep theirs.

    book = XlsxWriter(stream)
    book.add_sheet("Containers", columns, rows=n)     # every sheet first, with its row count
    with book:                                        # the package (and its parts) is written
        with book.sheet("Containers") as sheet:      # then each sheet's rows, in order
            for values in rows: sheet.append(values)
"""

from __future__ import annotations

import io
import itertools
import math
import queue
import threading
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from sync.export.cells import (
    BLANK,
    DATE,
    DATETIME,
    EPOCH_ORDINAL,
    INT,
    KIND_CODES,
    LIGHT,
    NUMBER,
    TEXT,
    Column,
    LightCells,
    SharedStrings,
    column_cells,
    excel_serial,
    other_cell,
)

DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
MONEY_FORMAT = "#,##0.00"
# Excel's own "Good / Neutral / Bad" cell styles: what analysts already read as green/amber/red.
LIGHT_COLOURS = {
    "green": ("C6EFCE", "006100"),
    "amber": ("FFEB9C", "9C5700"),
    "red": ("FFC7CE", "9C0006"),
}
HEADER_FILL = "DDEBF7"
MAX_ROWS = 1_048_576  # Excel's sheet limit, header included
MAX_DATA_ROWS = MAX_ROWS - 1
_SPLICE_AT = b"</sheetData>"
_CHUNK_ROWS = 2_000
_SHARED_STRINGS_PART = "xl/sharedStrings.xml"
_SHARED_STRINGS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
_SHARED_STRINGS_RELATION = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
_ROW = '<row r="{}">{}</row>'


class _Compressor:
    """Writes chunks to a zip entry from a second thread, so compressing overlaps building rows."""

    def __init__(self, sink: IO[bytes]) -> None:
        self._sink = sink
        self._chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=4)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="xlsx-compress", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            chunk = self._chunks.get()
            if chunk is None:
                return
            if self._error is None:
                try:
                    self._sink.write(chunk)
                except BaseException as error:  # handed to the producing thread
                    self._error = error

    def write(self, chunk: bytes) -> None:
        if self._error is not None:
            raise self._error
        self._chunks.put(chunk)

    def close(self) -> None:
        self._chunks.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error


class SheetWriter:
    """The rows of one worksheet: append values in column order; None (or '') leaves a cell blank.

    Values by column kind: text (any value, shown as text), datetime (a naive datetime, or an
    Excel serial number as a float), date, int, number / money (float), light (text whose fill
    follows the light).
    """

    def __init__(
        self, title: str, columns: Sequence[Column], styles: Mapping[str, int], strings: SharedStrings
    ) -> None:
        self.title = title
        self.columns = list(columns)
        self.rows = 0
        self.truncated = 0
        self._out: _Compressor | None = None
        self._buffer: list[str] = []
        self._buffered_rows = 0
        self._next_row = 2  # row 1 is the header, written by openpyxl
        self._strings = strings
        self._light_styles = {light: f' s="{styles["light_" + light]}"' for light in LIGHT_COLOURS}
        # Per column: (kind, '<c s="3"><v>' for numbers / dates, light column's text → cell XML)
        self._cells: list[tuple[int, str, dict[Any, str]]] = []
        # Per column: its cells for a chunk of its values (`extend`)
        self._columns: list[Callable[[Sequence[Any]], list[str]]] = []
        for column in self.columns:
            style = styles.get(column.kind)
            opening = f'<c s="{style}"><v>' if style else "<c><v>"
            lights = LightCells(strings)
            if column.kind == "light":
                mapping = column.lights or {light: light for light in LIGHT_COLOURS}
                for text, light in mapping.items():
                    lights[text] = strings.cell(text, self._light_styles[light])
            kind = KIND_CODES[column.kind]
            self._cells.append((kind, opening, lights))
            self._columns.append(column_cells(kind, opening, lights, strings.cells))

    def append(self, values: Sequence[Any]) -> None:
        if self._next_row > MAX_ROWS:
            self.truncated += 1
            return
        parts = self._buffer
        add = parts.append
        add(f'<row r="{self._next_row}">')
        self._next_row += 1
        known = self._strings.cells
        text_cell = self._strings.cell
        for (kind, opening, lights), value in zip(self._cells, values, strict=False):
            if value is None:
                add(BLANK)
            elif kind == TEXT:
                cell = known.get(value) if value.__class__ is str else None
                add(text_cell(value) if cell is None else cell)
            elif value == "":
                add(BLANK)
            elif kind == DATETIME:
                serial = value if value.__class__ is float else excel_serial(value)
                add(f"{opening}{serial:.10f}</v></c>")
            elif kind == DATE:
                add(f"{opening}{value.toordinal() - EPOCH_ORDINAL}</v></c>")
            elif kind == INT:
                add(f"{opening}{int(value)}</v></c>")
            elif kind == NUMBER:
                amount = float(value)
                add(f"{opening}{amount!r}</v></c>" if math.isfinite(amount) else BLANK)
            else:  # light: text with the light's own fill
                add(lights.get(value) or text_cell(value))
        add("</row>")
        self.rows += 1
        self._buffered_rows += 1
        if self._buffered_rows >= _CHUNK_ROWS:
            self.flush()

    def extend(self, rows: Iterable[Sequence[Any]]) -> None:
        """Append rows, as `append` would, a chunk at a time and column by column: a column's
        cells come from one comprehension, or for texts one `map` over the known cells, instead
        of `append`'s branches per cell — a third of the time for the Containers sheet's
        1.1 million cells. (Texts new to the workbook are numbered column by column then.)"""
        rows = iter(rows)
        while chunk := list(itertools.islice(rows, _CHUNK_ROWS)):
            room = MAX_ROWS + 1 - self._next_row
            if len(chunk) > room:
                self.truncated += len(chunk) - max(room, 0)
                del chunk[max(room, 0) :]
            if not chunk:
                continue
            try:  # strict: a row of another length than the columns raises ValueError
                transposed = zip(*chunk, strict=True)
                columns = [cells(values) for cells, values in zip(self._columns, transposed, strict=True)]
            except (TypeError, ValueError):  # a short row, a text that is no dict key (a list), ...:
                # row by row, which shows what it can and raises what it cannot
                for values in chunk:
                    self.append(values)
                continue
            self._buffer.extend(
                map(_ROW.format, itertools.count(self._next_row), map("".join, zip(*columns, strict=True)))
            )
            self._next_row += len(chunk)
            self.rows += len(chunk)
            self._buffered_rows += len(chunk)
            if self._buffered_rows >= _CHUNK_ROWS:
                self.flush()

    # --- pre-rendered cells: for sheets whose rows repeat long runs of the same cells -----------

    def render(self, values: Sequence[Any], start: int = 0) -> str:
        """The XML of cells for `values` at columns `start`, `start + 1`, ... (blanks included), to
        cache and reuse with `append_rendered`: events repeat their place, vessel and source."""
        return "".join(
            self._cell(kind, opening, lights, value)
            for (kind, opening, lights), value in zip(self._cells[start:], values, strict=False)
        )

    def _cell(self, kind: int, opening: str, lights: dict[str, str], value: Any) -> str:
        """One cell's XML, as `append` writes it (which inlines this for speed)."""
        if value is None or (kind != TEXT and value == ""):
            return BLANK
        if kind == TEXT:
            return self._strings.cell(value)
        if kind == LIGHT:
            return lights.get(value) or self._strings.cell(value)
        return other_cell(kind, opening, value)

    def opening(self, column: int) -> str:
        """'<c s="N"><v>': what a number cell of column `column` (0-based) starts with."""
        return self._cells[column][1]

    def extend_rendered(self, rows: Iterable[str]) -> None:
        """Rows given as the already rendered cells of each (`render`, or after `opening`): the
        bulk path, for sheets whose cells are mostly reused (half a million events).

        Each chunk of rows is wrapped by `map` over `islice`, a loop in C: the caller's generator
        is then the only Python code run per row."""
        rows = iter(rows)
        buffer = self._buffer
        while (room := MAX_ROWS + 1 - self._next_row) > 0:
            wanted = min(room, _CHUNK_ROWS)
            before = len(buffer)
            buffer.extend(map(_ROW.format, itertools.count(self._next_row), itertools.islice(rows, wanted)))
            added = len(buffer) - before
            self._next_row += added
            self.rows += added
            self._buffered_rows += added
            if self._buffered_rows >= _CHUNK_ROWS:
                self.flush()
            if added < wanted:
                return
        self.truncated += sum(1 for _ in rows)

    def append_rendered(self, *cells: str) -> None:
        """A row of cells already rendered (`render`, or after `opening`), covering columns in order."""
        if self._next_row > MAX_ROWS:
            self.truncated += 1
            return
        parts = self._buffer
        parts.append(f'<row r="{self._next_row}">')
        parts.extend(cells)
        parts.append("</row>")
        self._next_row += 1
        self.rows += 1
        self._buffered_rows += 1
        if self._buffered_rows >= _CHUNK_ROWS:
            self.flush()

    def flush(self) -> None:
        if self._buffer and self._out is not None:
            self._out.write("".join(self._buffer).encode("utf-8"))
            self._buffer.clear()
            self._buffered_rows = 0


@dataclass
class _Declared:
    title: str
    columns: list[Column]
    rows: int
    worksheet: Any = None
    written: bool = False


class XlsxWriter:
    """A workbook of streamed sheets written to `target` (a seekable binary file)."""

    def __init__(self, target: IO[bytes], *, compress_level: int = 2) -> None:
        self._target = target
        self._book = Workbook(write_only=True)
        self._declared: dict[str, _Declared] = {}
        self._compress_level = compress_level
        self._styles: dict[str, int] | None = None
        self._zip: zipfile.ZipFile | None = None
        self._package: zipfile.ZipFile | None = None
        self._entries: dict[str, zipfile.ZipInfo] = {}
        self.strings = SharedStrings()

    def describe(self, *, title: str, description: str) -> None:
        """The workbook's document properties (File > Info in Excel)."""
        properties = self._book.properties
        properties.title, properties.description, properties.creator = title, description, "quaysync"

    def _style_ids(self, worksheet: Any) -> dict[str, int]:
        """openpyxl's style ids for each kind of cell, registered once per workbook."""
        if self._styles is None:

            def style_id(**attributes: Any) -> int:
                cell = WriteOnlyCell(worksheet)
                for name, value in attributes.items():
                    setattr(cell, name, value)
                return int(cell.style_id)

            self._styles = {
                "date": style_id(number_format=DATE_FORMAT),
                "datetime": style_id(number_format=DATETIME_FORMAT),
                "money": style_id(number_format=MONEY_FORMAT),
                **{
                    f"light_{light}": style_id(
                        fill=PatternFill("solid", fgColor=background), font=Font(color=foreground)
                    )
                    for light, (background, foreground) in LIGHT_COLOURS.items()
                },
            }
        return self._styles

    def add_sheet(self, title: str, columns: Sequence[Column], rows: int) -> None:
        """Declare a sheet and how many data rows it will get (for its autofilter range)."""
        if self._zip is not None:
            raise RuntimeError("declare every sheet before writing any")
        worksheet = self._book.create_sheet(title)
        # Set before the first row: write-only sheets write their top part with the first row.
        worksheet.freeze_panes = "A2"
        for index, column in enumerate(columns, start=1):
            worksheet.column_dimensions[get_column_letter(index)].width = column.width
        self._style_ids(worksheet)
        bold, fill = Font(bold=True), PatternFill("solid", fgColor=HEADER_FILL)
        alignment = Alignment(vertical="center", wrap_text=True)
        header = []
        for column in columns:
            cell = WriteOnlyCell(worksheet, value=column.header)
            cell.font, cell.fill, cell.alignment = bold, fill, alignment
            header.append(cell)
        worksheet.append(header)
        last_row = min(rows, MAX_DATA_ROWS) + 1
        worksheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{last_row}"
        self._declared[title] = _Declared(title, list(columns), rows, worksheet)

    def __enter__(self) -> XlsxWriter:
        package = io.BytesIO()
        self._book.save(package)
        self._package = zipfile.ZipFile(package)
        self._zip = zipfile.ZipFile(
            self._target, "w", zipfile.ZIP_DEFLATED, compresslevel=self._compress_level
        )
        sheets = {f"xl/worksheets/sheet{index}.xml": title for index, title in enumerate(self._declared, 1)}
        names = set(self._package.namelist())
        if not set(sheets) <= names or _SHARED_STRINGS_PART in names:
            # openpyxl names sheets sheet1.xml ... in creation order and writes inline strings only
            raise RuntimeError(f"unexpected workbook layout from openpyxl: {sorted(names)}")
        for info in self._package.infolist():
            title = sheets.get(info.filename)
            if title is not None:
                self._entries[title] = info
                continue
            content = self._package.read(info.filename)
            if info.filename == "[Content_Types].xml":
                content = _insert_before(
                    content,
                    b"</Types>",
                    f'<Override PartName="/{_SHARED_STRINGS_PART}" ContentType="{_SHARED_STRINGS_TYPE}"/>',
                )
            elif info.filename == "xl/_rels/workbook.xml.rels":
                content = _insert_before(
                    content,
                    b"</Relationships>",
                    f'<Relationship Type="{_SHARED_STRINGS_RELATION}" Target="sharedStrings.xml" '
                    'Id="rIdQuaysyncSharedStrings"/>',
                )
            self._zip.writestr(info, content, zipfile.ZIP_DEFLATED, self._compress_level)
        return self

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        try:
            if error is None:
                for title, declared in self._declared.items():
                    if not declared.written:
                        with self.sheet(title):
                            pass
                assert self._zip is not None
                with self._zip.open(_SHARED_STRINGS_PART, "w") as sink:
                    for chunk in self.strings.xml_chunks():
                        sink.write(chunk)
        finally:
            if self._zip is not None:
                self._zip.close()
            if self._package is not None:
                self._package.close()

    @contextmanager
    def sheet(self, title: str) -> Any:
        """Stream the rows of a declared sheet into the workbook (sheets one after the other)."""
        if self._zip is None or self._package is None:
            raise RuntimeError("open the workbook (`with book:`) before writing sheets")
        declared = self._declared[title]
        info = self._entries[title]
        head, separator, tail = self._package.read(info.filename).partition(_SPLICE_AT)
        if not separator:
            raise RuntimeError(f"unexpected worksheet XML in {info.filename}: no sheetData")
        writer = SheetWriter(title, declared.columns, self._style_ids(declared.worksheet), self.strings)
        # Opened by name, so the entry takes the package's `compress_level`: a ZipInfo of our own
        # would carry no level, and zlib's default (6) spends three times level 1's CPU here
        with self._zip.open(info.filename, "w") as sink:
            sink.write(head)
            compressor = _Compressor(sink)
            writer._out = compressor
            try:
                yield writer
                writer.flush()
            finally:
                compressor.close()
            sink.write(separator + tail)
        declared.written = True


def _insert_before(content: bytes, closing: bytes, addition: str) -> bytes:
    head, found, tail = content.rpartition(closing)
    if not found:
        raise RuntimeError(f"unexpected package part from openpyxl: no {closing.decode()}")
    return head + addition.encode() + found + tail


__all__ = [
    "DATETIME_FORMAT",
    "DATE_FORMAT",
    "LIGHT_COLOURS",
    "MAX_DATA_ROWS",
    "MONEY_FORMAT",
    "SheetWriter",
    "XlsxWriter",
]
