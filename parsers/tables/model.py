"""The shapes a table reading produces: a grid of cell text, and what came out of it."""

from __future__ import annotations

from dataclasses import dataclass, field

from quaysync.model import Observation


@dataclass(frozen=True)
class Table:
    """One grid of cells as a person sees it: a worksheet, a CSV file, an HTML <table>.

    `rows[i]` is row i + 1 as a person counts it (leading blank rows are kept as empty lists or
    rows of ''), and every cell is the text shown ('' when empty). Rows may differ in length.
    Merged cells are not expanded: the value sits in the top-left cell only, the others are ''.
    """

    name: str  # sheet name, "csv", "tsv", "html table 2", ...
    rows: list[list[str]]
    hidden: bool = False  # a hidden worksheet (still read: nothing is lost)
    first_column: int = 1  # 1-based column number of rows[i][0] (a sheet whose data starts at C)


@dataclass(frozen=True)
class RowProblem:
    """A row that did not become an observation, and why (a person can find it by its number)."""

    row_number: int  # 1-based, as a person counts rows in the sheet
    reason: str
    raw: list[str]


@dataclass
class TableReading:
    observations: list[Observation] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    header_row: int = 0  # 1-based
    columns: dict[str, str] = field(default_factory=dict)  # field → the header text it came from
    table_name: str = ""
