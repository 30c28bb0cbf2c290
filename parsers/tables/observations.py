"""A Table → one Observation per data row, under the field vocabulary.

The header is found, not assumed: carriers put logos, merged titles ("Discharge list for vessel
X"), blank rows and notes above it. The first rows are scored by how many distinct fields their
cells name; the best row that names the subject's key column (a container number column for
container lists) wins. Columns nobody mapped are kept under their own header text, verbatim.

Rows: blank rows are skipped; a row without a key value, a summary line ("Total: 12"), a repeated
header (multi-page exports) or a key cell holding words without a digit becomes a RowProblem with
its reason. Values are never validated here (ISO 6346 check digits are sync's job): they are kept
exactly as the cell shows them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from operator import itemgetter

from quaysync.collector import collector_paused
from quaysync.errors import LayoutChangedError
from quaysync.model import Observation, ParseContext, SubjectKind

from .aliases import FIELD_ALIASES, HeaderMatcher, matcher_for
from .model import RowProblem, Table, TableReading

HEADER_SCAN_ROWS = 50
KEY_FIELDS: Mapping[str, str] = {
    "container": "container_no",
    "bill_of_lading": "mbl_no",
    "vessel_call": "vessel",
}
# "Total", "Total: 5", "合计 3 箱" — but not "Total Logistics Ltd" (a customer) or "SUMU1234565".
_SUMMARY = re.compile(
    r"^\W*(?:sub\s*-?\s*total|grand\s*total|total|sum|合计|合計|总计|總計|小计|共计|汇总)"
    r"\s*(?:[:：=]|\d|$)",
    re.I,
)
_DIGIT = re.compile(r"\d")


def _column_label(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _score_row(row: Sequence[str], matcher: HeaderMatcher, key_field: str) -> tuple[int, dict[int, str]]:
    fields: dict[int, str] = {}
    seen: set[str] = set()
    for index, cell in enumerate(row):
        if not cell or cell.isspace():
            continue
        field_name = matcher.field_for(cell)
        if field_name and field_name not in seen:
            seen.add(field_name)
            fields[index] = field_name
    if key_field not in seen:
        return 0, {}
    non_empty = sum(1 for cell in row if cell and not cell.isspace())
    # A lone key-like cell in a wordy row is more likely a title than a header.
    if len(seen) == 1 and non_empty > 2:
        return 0, {}
    return len(seen), fields


def find_header(table: Table, matcher: HeaderMatcher, key_field: str) -> tuple[int, dict[int, str]]:
    """(0-based index of the header row, column index → field) or LayoutChangedError."""
    best_index, best_score, best_fields = -1, 0, {}
    for index, row in enumerate(table.rows[:HEADER_SCAN_ROWS]):
        score, fields = _score_row(row, matcher, key_field)
        if score > best_score:
            best_index, best_score, best_fields = index, score, fields
    if best_index < 0:
        examples = ", ".join(repr(alias) for alias in FIELD_ALIASES.get(key_field, ())[:6])
        scanned = min(len(table.rows), HEADER_SCAN_ROWS)
        raise LayoutChangedError(
            f"no header row in table {table.name!r}: none of the first {scanned} rows names "
            f"a {key_field} column (such as {examples}, in English or Chinese)"
        )
    return best_index, best_fields


def table_observations(
    table: Table,
    context: ParseContext,
    *,
    parser: str,
    extra_aliases: Mapping[str, Sequence[str]] | None = None,
    subject: SubjectKind = "container",
) -> TableReading:
    """One observation per data row of `table`; see the module docstring for the rules."""
    with collector_paused():
        return _table_observations(
            table, context, parser=parser, extra_aliases=extra_aliases, subject=subject
        )


def _table_observations(
    table: Table,
    context: ParseContext,
    *,
    parser: str,
    extra_aliases: Mapping[str, Sequence[str]] | None,
    subject: SubjectKind,
) -> TableReading:
    key_field = KEY_FIELDS[subject]
    matcher = matcher_for(extra_aliases)
    header_index, mapped = find_header(table, matcher, key_field)
    header = table.rows[header_index]

    keys: list[str] = []
    indices: list[int] = []
    columns: dict[str, str] = {}
    taken: set[str] = set()
    for index, text in enumerate(header):
        label = text.strip()
        if not label:
            continue
        key = mapped.get(index)
        if key is not None:
            columns[key] = label
        else:
            key = label
            suffix = 2
            while key in taken or key in mapped.values():  # a second "Remark", or a raw "status"
                key = f"{label} [{suffix}]"
                suffix += 1
        taken.add(key)
        keys.append(key)
        indices.append(index)
    key_column = next(index for index, name in mapped.items() if name == key_field)
    width = max(indices) + 1
    pick = itemgetter(*indices) if len(indices) > 1 else (lambda row: (row[indices[0]],))
    named = set(indices)
    whole_row = indices == list(range(width))  # every column named: zip the row itself
    unnamed_from = table.first_column

    unnamed_within = len(named) < width  # a column without a header between named ones

    reading = TableReading(header_row=header_index + 1, columns=columns, table_name=table.name)
    observations, problems = reading.observations, reading.problems
    # What `context.observe` would do, spelled out: it copies `fields` (built just below, owned by
    # nobody else) and its keyword call costs more than the observation itself, about a third of
    # this loop on a 100,000-row sheet. test_tables pins the result equal to `context.observe`.
    observation = Observation
    source, observed_at, time_zone = context.source, context.observed_at, context.time_zone
    ref_prefix = f"{context.source_ref}#{table.name}!R"
    needs_digit = subject != "vessel_call"

    for row_number, row in enumerate(table.rows[header_index + 1 :], start=header_index + 2):
        if len(row) < width:
            if not any(cell and not cell.isspace() for cell in row):
                continue
            row = row + [""] * (width - len(row))
        key_value = row[key_column]
        if not key_value or key_value.isspace():
            if not any(cell and not cell.isspace() for cell in row):
                continue
            summary = next((cell for cell in row if cell and _SUMMARY.match(cell)), None)
            reason = (
                f"summary line ({summary.strip()!r}), not a {key_field}"
                if summary
                else f"no {key_field} in column {columns[key_field]!r}"
            )
            problems.append(RowProblem(row_number, reason, list(row)))
            continue
        first = row[0] if row[0] else next((cell for cell in row if cell), "")
        if _SUMMARY.match(key_value) or (first is not key_value and _SUMMARY.match(first)):
            label = key_value if _SUMMARY.match(key_value) else first
            reason = f"summary line ({label.strip()!r}), not a {key_field}"
            problems.append(RowProblem(row_number, reason, list(row)))
            continue
        # A key ending in a digit (a container number's check digit) needs no search; `\d` is
        # str.isdecimal, so this only answers sooner.
        if not needs_digit or not (key_value[-1].isdecimal() or _DIGIT.search(key_value)):
            # Cheap test first: headers and notes have no digits, real keys nearly always do.
            if matcher.field_for(key_value) == key_field:
                problems.append(RowProblem(row_number, "repeated header row", list(row)))
                continue
            if needs_digit:
                reason = f"{key_field} column holds {key_value.strip()[:60]!r}, which has no digit"
                problems.append(RowProblem(row_number, reason, list(row)))
                continue
        fields = dict(zip(keys, row if whole_row and len(row) == width else pick(row)))  # noqa: B905
        if unnamed_within or len(row) > width:
            for index, cell in enumerate(row):
                if cell and index not in named and not cell.isspace():
                    fields[f"column {_column_label(index + unnamed_from)}"] = cell
        observations.append(
            observation(source, f"{ref_prefix}{row_number}", observed_at, fields, subject, parser, time_zone)
        )
    return reading


def tables_observations(
    tables: Sequence[Table],
    context: ParseContext,
    *,
    parser: str,
    extra_aliases: Mapping[str, Sequence[str]] | None = None,
    subject: SubjectKind = "container",
) -> list[TableReading]:
    """Readings of every table that has a header (a workbook's notes sheet is skipped);
    LayoutChangedError only when no table at all has one."""
    readings: list[TableReading] = []
    failures: list[str] = []
    for table in tables:
        try:
            readings.append(
                table_observations(
                    table, context, parser=parser, extra_aliases=extra_aliases, subject=subject
                )
            )
        except LayoutChangedError as error:
            failures.append(error.message)
    if not readings:
        raise LayoutChangedError("; ".join(failures) or "no tables")
    return readings
