"""Spreadsheet, CSV and HTML tables → Observations (pure: bytes in, observations out).

    tables = read_tables("avail.xlsx", attachment_bytes)        # BadInputError if unreadable/unsafe
    reading = table_observations(tables[0], context, parser=PARSER)  # LayoutChangedError if no header
    reading.observations, reading.problems

Formats (decided from the bytes): xlsx/xlsm (python-calamine), legacy xls (calamine, xlrd as
fallback), HTML posing as .xls, Excel 2003 XML (SpreadsheetML), CSV/TSV in UTF-8/16/32, GBK/GB2312/
GB18030 and other encodings (charset-normalizer). Safety rules: `parsers.tables.safety`.
"""

from .aliases import FIELD_ALIASES, HeaderMatcher, normalize_header
from .cells import render_cell
from .html import html_tables
from .model import RowProblem, Table, TableReading
from .observations import find_header, table_observations, tables_observations
from .reader import read_tables

PARSER = "table/1"

__all__ = [
    "FIELD_ALIASES",
    "PARSER",
    "HeaderMatcher",
    "RowProblem",
    "Table",
    "TableReading",
    "find_header",
    "html_tables",
    "normalize_header",
    "read_tables",
    "render_cell",
    "table_observations",
    "tables_observations",
]
