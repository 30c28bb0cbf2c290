"""read_tables: attachment bytes → Tables, whatever the spreadsheet-ish format.

The format is decided by the bytes, never by the name: "availability.xls" is often HTML or
SpreadsheetML, "list.csv" is sometimes an xlsx, and a name is whatever the sender typed. The name
only appears (cleaned) in error messages so a person can tell which attachment was refused.
"""

from __future__ import annotations

import re

from quaysync.collector import collector_paused
from quaysync.errors import BadInputError

from . import safety
from .delimited import read_delimited
from .html import html_tables
from .model import Table
from .spreadsheetml import read_spreadsheetml
from .workbook import read_workbook

_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f]+")


def _display_name(filename: str) -> str:
    # Only the last path component, without control characters: the name is shown, never opened.
    name = _UNPRINTABLE.sub("", filename.replace("\\", "/").rsplit("/", 1)[-1])
    return name[:80] or "attachment"


def read_tables(
    filename: str,
    content: bytes,
    *,
    max_bytes: int = safety.MAX_INPUT_BYTES,
    encoding_hint: str | None = None,
) -> list[Table]:
    """Every table in a spreadsheet-like attachment (xlsx/xlsm, xls, HTML-as-xls, SpreadsheetML,
    CSV/TSV). Raises BadInputError, naming the file and the reason, for anything unsupported,
    corrupt, too big or unsafe. `encoding_hint` is the MIME charset, used for text if it fits."""
    try:
        with collector_paused():
            return _read(content, max_bytes=max_bytes, encoding_hint=encoding_hint)
    except BadInputError as error:
        raise BadInputError(f"{_display_name(filename)}: {error.message}") from None


def _read(content: bytes, *, max_bytes: int, encoding_hint: str | None) -> list[Table]:
    safety.check_size(content, max_bytes)
    kind = safety.sniff_format(content)
    if kind == "xlsx":
        report = safety.inspect_xlsx(content, keep_parts=True)
        tables = read_workbook(content, report.kind, parts=report.parts)
    elif kind == "xls":
        safety.inspect_ole2(content)
        tables = read_workbook(content, "xls")
    elif kind == "html":
        tables = html_tables(content)
        if not tables:
            raise BadInputError("HTML without any <table>: nothing to read")
    elif kind == "spreadsheetml":
        tables = read_spreadsheetml(content)
    else:
        tables = [read_delimited(content, encoding_hint=encoding_hint)]
    if not any(table.rows for table in tables):
        raise BadInputError("no cells: the workbook is empty")
    return tables
