"""Cells as the xlsx writer writes them: the column kinds, the shared-strings table and the XML
of one cell, in Excel's own numbers (serial days for times, day numbers for dates).

The writer (sync/export/xlsx.py) streams rows of these cells; this module knows nothing of
sheets, packages or compression.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal

CellKind = Literal["text", "int", "number", "money", "date", "datetime", "light"]

MAX_CELL_TEXT = 32_767  # Excel's limit of characters in a cell
_EPOCH = datetime(1899, 12, 30)
EPOCH_ORDINAL = _EPOCH.toordinal()
_SECONDS_PER_DAY = 86_400.0
# XML 1.0 forbids these characters even escaped (openpyxl refuses them; we drop them).
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
BLANK = "<c/>"
BLANK_CELL = BLANK


@dataclass(frozen=True)
class Column:
    header: str
    width: float
    kind: CellKind = "text"
    # For "light" columns: which cell text gets which light's fill (default: green/amber/red)
    lights: Mapping[str, str] | None = None


# Times are written as serial days with 10 decimals (f"{serial:.10f}"): within 5 µs of the moment,
# which LibreOffice needs (it truncates to the displayed minute: 8 decimals showed 09:30 as 09:29),
# and twice as fast to format as the shortest repr.
def excel_serial(moment: datetime) -> float:
    """A naive datetime as Excel's serial day number (1900 date system)."""
    delta = moment - _EPOCH
    return delta.days + delta.seconds / _SECONDS_PER_DAY


# A whole second's serial number, f"{seconds / 86400:.10f}", as its day and a table of the text
# after it: a tenth of the Events sheet's time went to formatting floats. Exact where the table has
# an entry and the day is below 2**16 (year 2079): the day number's double is then within 3.7e-12
# of seconds / 86400, and that is at a 10-decimal rounding boundary (x.5e-10) only for fractions
# k / 86400 whose 11th decimal onwards is 13/27 or 14/27 (1.9e-12 away); those have no entry, and
# such seconds (1 in 13.5) are formatted as a float. Checked against float formatting for every
# second of 684 days across the range (tests/sheets/test_sheets_writer.py checks a sample).
SERIAL_EXACT_DAYS = 65_536


@lru_cache(maxsize=1)
def second_fractions() -> list[str | None]:
    """By second of the day: '.xxxxxxxxxx' of its serial number, or None where formatting the
    whole serial as a float can round its last digit otherwise (see above)."""
    return [
        None if (3_125_000 * second) % 27 in (13, 14) else f"{second / _SECONDS_PER_DAY:.10f}"[1:]
        for second in range(86_400)
    ]


def serial_text(seconds: int) -> str:
    """Excel's serial number of a whole second since its epoch, as times are written: the same
    text as f"{seconds / 86400:.10f}", made faster."""
    day, second = divmod(seconds, 86_400)
    fraction = second_fractions()[second]
    if fraction is not None and 0 <= day < SERIAL_EXACT_DAYS:
        return f"{day}{fraction}"
    return f"{seconds / _SECONDS_PER_DAY:.10f}"


def _shared_item(value: Any) -> str:
    """A text as a shared-strings item (`<si>`), or '' when nothing printable is left of it."""
    text = value if value.__class__ is str else str(value)
    if not text:
        return ""
    if not text.isprintable() or text[0] == " " or text[-1] == " ":
        text = _ILLEGAL.sub("", text)
        if not text:
            return ""
    if len(text) > MAX_CELL_TEXT:
        text = text[: MAX_CELL_TEXT - 1] + "…"
    if "&" in text or "<" in text or ">" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if text[0].isspace() or text[-1].isspace():
        return f'<si><t xml:space="preserve">{text}</t></si>'
    return f"<si><t>{text}</t></si>"


class _TextCells(dict[Any, str]):
    """text → the XML of an unstyled cell showing it (the same in every sheet). Looked up with
    `[]`, a missing one is made, and kept when it is a text: a column of cells is then one
    `map` of a C-level look-up (see `SheetWriter.extend`)."""

    def __init__(self, strings: SharedStrings) -> None:
        super().__init__()
        self[None] = BLANK
        self._strings = strings

    def __missing__(self, value: Any) -> str:
        return self._strings.cell(value)  # which keeps it, for a text


class LightCells(dict[Any, str]):
    """A light column's cells: its texts with their light's fill; any other text unstyled."""

    def __init__(self, strings: SharedStrings) -> None:
        super().__init__()
        self[None] = self[""] = BLANK
        self._strings = strings

    def __missing__(self, value: Any) -> str:
        cell = self._strings.cell(value)
        if value.__class__ is str:
            self[value] = cell
        return cell


class SharedStrings:
    """The workbook's shared-strings table: each distinct text is stored once and cells name it
    by number — half the XML of inline strings for sheets that repeat containers and places."""

    def __init__(self) -> None:
        self._numbers: dict[str, int] = {}
        self.items: list[str] = []
        self.cells = _TextCells(self)

    def number(self, value: Any) -> int | None:
        """The number of a text in the table (added if new); None for a text with nothing to show."""
        text = value if value.__class__ is str else str(value)
        number = self._numbers.get(text)
        if number is None:
            item = _shared_item(text)
            if not item:
                return None
            number = self._numbers[text] = len(self.items)
            self.items.append(item)
        return number

    def cell(self, value: Any, style: str = "") -> str:
        """The XML of a cell showing `value` as text (an empty `<c/>` when there is nothing)."""
        number = self.number(value)
        cell = BLANK if number is None else f'<c{style} t="s"><v>{number}</v></c>'
        if not style and value.__class__ is str:
            self.cells[value] = cell
        return cell

    def xml_chunks(self) -> Iterable[bytes]:
        yield (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<sst xmlns="{_MAIN_NS}" uniqueCount="{len(self.items)}">'
        ).encode()
        for start in range(0, len(self.items), 50_000):
            yield "".join(self.items[start : start + 50_000]).encode("utf-8")
        yield b"</sst>"


# Cell kinds as small ints: the row loop compares them millions of times.
TEXT, DATETIME, DATE, INT, NUMBER, LIGHT = range(6)
KIND_CODES = {"text": TEXT, "datetime": DATETIME, "date": DATE, "int": INT, "number": NUMBER,
               "money": NUMBER, "light": LIGHT}  # fmt: skip


def column_cells(
    kind: int, opening: str, lights: dict[Any, str], texts: dict[Any, str]
) -> Callable[[Sequence[Any]], list[str]]:
    """What makes a column's cells from a chunk of its values: the same cells as
    `SheetWriter.append`, the common type of each kind on the comprehension's first branch."""
    if kind == TEXT:
        return lambda values: list(map(texts.__getitem__, values))
    if kind == LIGHT:
        return lambda values: list(map(lights.__getitem__, values))
    if kind == DATETIME:
        return lambda values: [
            f"{opening}{value:.10f}</v></c>" if value.__class__ is float else other_cell(kind, opening, value)
            for value in values
        ]
    if kind == INT:
        return lambda values: [
            f"{opening}{value}</v></c>" if value.__class__ is int else other_cell(kind, opening, value)
            for value in values
        ]
    if kind == NUMBER:
        return lambda values: [
            f"{opening}{value!r}</v></c>"
            if value.__class__ is float and math.isfinite(value)
            else other_cell(kind, opening, value)
            for value in values
        ]
    return lambda values: [other_cell(kind, opening, value) for value in values]


def other_cell(kind: int, opening: str, value: Any) -> str:
    """A number or date cell the way `SheetWriter.append` makes it, for the less common values."""
    if value is None or value == "":
        return BLANK
    if kind == DATETIME:
        return f"{opening}{(value if value.__class__ is float else excel_serial(value)):.10f}</v></c>"
    if kind == DATE:
        return f"{opening}{value.toordinal() - EPOCH_ORDINAL}</v></c>"
    if kind == INT:
        return f"{opening}{int(value)}</v></c>"
    amount = float(value)
    return f"{opening}{amount!r}</v></c>" if math.isfinite(amount) else BLANK
