"""HTML tables → Tables: mail bodies, and the "xls" files that are really HTML (portal exports).

Each <table> is one Table named "html table N" (N counts every table in document order, nested
ones included, so names stay stable). A table's rows are its own <tr>s, not those of tables
nested inside it. colspan/rowspan keep columns aligned: the text stays in the first cell of the
span and the cells it covers are '' (as merged cells in a workbook). <br> is a line break; other
whitespace collapses as a browser shows it; script/style text is not part of any cell.
"""

from __future__ import annotations

import re

import lxml.etree
import lxml.html
from charset_normalizer import from_bytes

from quaysync.errors import BadInputError

from .model import Table
from .safety import MAX_TABLE_CELLS

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
_SPACES = re.compile(r"[^\S\n]+")
_MAX_COLSPAN = 1000  # the HTML limit
_NOT_TEXT = ("script", "style", "noscript", "template", "head")


def decode_html(content: bytes) -> str:
    """BOM, then <meta charset>, then strict UTF-8, then detection (GBK portals rarely declare)."""
    for bom, encoding in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if content.startswith(bom):
            return content.decode(encoding, errors="replace")
    declared = _META_CHARSET.search(content[:8192])
    if declared:
        encoding = declared.group(1).decode("ascii").lower()
        if encoding in ("gb2312", "gbk", "x-gbk"):
            encoding = "gb18030"
        try:
            return content.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    best = from_bytes(content[:200_000]).best()
    encoding = best.encoding if best else "cp1252"
    if encoding.lower() in ("gb2312", "gbk"):
        encoding = "gb18030"
    return content.decode(encoding, errors="replace")


def _cell_text(cell: lxml.html.HtmlElement) -> str:
    lines = (_SPACES.sub(" ", line).strip() for line in cell.text_content().split("\n"))
    return "\n".join(line for line in lines if line)


def _span(cell: lxml.html.HtmlElement, name: str, limit: int) -> int:
    try:
        return max(1, min(int(str(cell.get(name, "1")).strip() or 1), limit))
    except ValueError:
        return 1


def _table_rows(table: lxml.html.HtmlElement) -> list[list[str]]:
    rows: list[list[str]] = []
    pending: dict[int, int] = {}  # column → rows still covered by a rowspan from above
    own_rows = [tr for tr in table.iter("tr") if next(tr.iterancestors("table"), None) is table]
    for row_index, tr in enumerate(own_rows):
        row: list[str] = []

        def fill_covered(row: list[str] = row) -> None:
            while pending.get(len(row), 0) > 0:
                pending[len(row)] -= 1
                row.append("")

        for cell in tr:
            if not isinstance(cell.tag, str) or cell.tag not in ("td", "th"):
                continue
            fill_covered()
            colspan = _span(cell, "colspan", _MAX_COLSPAN)
            rowspan = _span(cell, "rowspan", len(own_rows) - row_index)
            start = len(row)
            row.append(_cell_text(cell))
            row.extend([""] * (colspan - 1))
            if rowspan > 1:
                for column in range(start, start + colspan):
                    pending[column] = rowspan - 1
        # Covered columns right of the last cell keep later rows aligned too.
        while any(count > 0 and column >= len(row) for column, count in pending.items()):
            if pending.get(len(row), 0) > 0:
                pending[len(row)] -= 1
            row.append("")
        rows.append(row)
    return rows


def html_tables(html: bytes | str) -> list[Table]:
    """Every <table> of an HTML document or fragment, in document order (empty ones left out)."""
    text = decode_html(html) if isinstance(html, bytes) else html
    text = _XML_DECLARATION.sub("", text, count=1)  # lxml refuses str input with an encoding declaration
    if not text.strip():
        return []
    try:
        document = lxml.html.document_fromstring(text)
    except (lxml.etree.ParserError, ValueError) as error:
        raise BadInputError(f"HTML could not be parsed: {error}") from None
    for element in list(document.iter(*_NOT_TEXT)):
        element.drop_tree()
    for br in document.iter("br"):
        br.tail = "\n" + (br.tail or "")
    tables: list[Table] = []
    cells = 0
    for number, table in enumerate(document.iter("table"), start=1):
        rows = _table_rows(table)
        cells += sum(len(row) for row in rows)
        if cells > MAX_TABLE_CELLS:
            raise BadInputError(f"HTML rejected: more than {MAX_TABLE_CELLS:,} table cells")
        if rows:
            tables.append(Table(name=f"html table {number}", rows=rows))
    return tables
