"""Workbooks (xlsx, xlsm, legacy xls) → Tables, with python-calamine (xlrd as the xls fallback).

calamine does not expand merged cells: a merged title row keeps its text in its top-left cell and
'' elsewhere, which is what header detection wants. Every worksheet is read, hidden ones too
(flagged); chart and macro sheets have no cells and are skipped.
"""

from __future__ import annotations

from io import BytesIO

import python_calamine

from quaysync.errors import BadInputError

from .bands import BAND_MIN_BYTES, banded_rows
from .cells import render_cell, render_rows
from .model import Table
from .safety import MAX_SHEET_CELLS, WORKSHEET_PART

_CELL_SHEETS = (python_calamine.SheetTypeEnum.WorkSheet,)


def _reader_failure(kind: str, error: BaseException) -> BadInputError:
    if isinstance(error, python_calamine.PasswordError):
        return BadInputError(f"encrypted {kind} workbook: password-protected files cannot be read")
    text = str(error).strip() or type(error).__name__
    return BadInputError(f"{kind} could not be read: {text[:300]}")


def _guard(error: BaseException) -> None:
    # calamine reports some corruptions as Rust panics (pyo3's PanicException is a BaseException).
    if isinstance(error, KeyboardInterrupt | SystemExit | GeneratorExit):
        raise error


def read_workbook(content: bytes, kind: str, *, parts: dict[str, bytes] | None = None) -> list[Table]:
    """All worksheets of an xlsx/xlsm/xls that passed the safety checks.

    `parts` are the xlsx parts the safety checks inflated; with them a single big worksheet is
    parsed in parallel row bands (see `bands`), without opening `content` itself: that would
    inflate the parts and parse the shared strings once more only to learn the sheet's name."""
    banded = _banded_table(parts) if parts else None
    if banded is not None:
        return [banded]
    try:
        workbook = python_calamine.CalamineWorkbook.from_object(BytesIO(content))
        sheets = workbook.sheets_metadata
    except BaseException as error:
        _guard(error)
        if kind == "xls":
            return _read_xls_with_xlrd(content, error)
        raise _reader_failure(kind, error) from None
    tables: list[Table] = []
    with workbook:
        for index, meta in enumerate(sheets):
            if meta.typ not in _CELL_SHEETS:
                continue
            try:
                sheet = workbook.get_sheet_by_index(index)
                tables.append(_sheet_table(sheet, meta.visible != python_calamine.SheetVisibleEnum.Visible))
            except BadInputError:
                raise
            except BaseException as error:
                _guard(error)
                if kind == "xls":
                    return _read_xls_with_xlrd(content, error)
                raise _reader_failure(kind, error) from None
    return tables


def _banded_table(parts: dict[str, bytes]) -> Table | None:
    """The one worksheet of a big workbook, parsed in bands; None: take the one-piece path (which
    also reports whatever makes the workbook unreadable)."""
    worksheet_parts = [name for name in parts if WORKSHEET_PART.match(name)]
    if len(worksheet_parts) != 1 or len(parts[worksheet_parts[0]]) < BAND_MIN_BYTES:
        return None
    try:
        result = banded_rows(parts, worksheet_parts[0])
    except BaseException as error:  # calamine panics are BaseExceptions: take the one-piece path
        _guard(error)
        return None
    if result is None:
        return None
    meta, rows, first_column = result
    return Table(
        name=meta.name,
        rows=rows,
        hidden=meta.visible != python_calamine.SheetVisibleEnum.Visible,
        first_column=first_column + 1,
    )


def _sheet_table(sheet: python_calamine.CalamineSheet, hidden: bool) -> Table:
    start, end = sheet.start, sheet.end
    if start is None or end is None:
        return Table(name=sheet.name, rows=[], hidden=hidden)
    if sheet.height * sheet.width > MAX_SHEET_CELLS:
        raise BadInputError(
            f"worksheet {sheet.name!r} has {sheet.height * sheet.width:,} cells, above the limit"
        )
    rows = render_rows(sheet.iter_rows())
    # iter_rows starts at the first row of the sheet but at the first *used* column; row i of the
    # list is sheet row i + 1 unless this calamine version skips leading rows too.
    leading = end[0] + 1 - len(rows)
    if leading > 0:
        rows[:0] = [[] for _ in range(leading)]
    return Table(name=sheet.name, rows=rows, hidden=hidden, first_column=start[1] + 1)


def _read_xls_with_xlrd(content: bytes, calamine_error: BaseException) -> list[Table]:
    """Some BIFF files calamine refuses are fine for xlrd (and the reverse); try before giving up."""
    import xlrd  # only here: most inputs never need it

    try:
        book = xlrd.open_workbook(file_contents=content, on_demand=True)
    except Exception as error:
        if "encrypt" in str(error).lower() or "password" in str(calamine_error).lower():
            raise BadInputError("encrypted xls workbook: password-protected files cannot be read") from None
        raise BadInputError(
            f"xls could not be read: {str(calamine_error)[:200]} / xlrd: {str(error)[:200]}"
        ) from None
    tables: list[Table] = []
    try:
        for index in range(book.nsheets):
            sheet = book.sheet_by_index(index)
            if sheet.nrows * sheet.ncols > MAX_SHEET_CELLS:
                raise BadInputError(f"worksheet {sheet.name!r} has too many cells")
            rows = [
                [_xlrd_cell(book, cell) for cell in sheet.row(row_index)] for row_index in range(sheet.nrows)
            ]
            tables.append(Table(name=sheet.name, rows=rows, hidden=bool(sheet.visibility)))
    finally:
        book.release_resources()
    return tables


def _xlrd_cell(book: object, cell: object) -> str:
    import xlrd

    ctype, value = cell.ctype, cell.value  # type: ignore[attr-defined]
    if ctype == xlrd.XL_CELL_DATE:
        try:
            return render_cell(xlrd.xldate.xldate_as_datetime(value, book.datemode))  # type: ignore[attr-defined]
        except (ValueError, OverflowError, xlrd.xldate.XLDateError):
            return render_cell(value)
    if ctype == xlrd.XL_CELL_BOOLEAN:
        return "TRUE" if value else "FALSE"
    if ctype == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(value, "#ERROR")
    return render_cell(value)
