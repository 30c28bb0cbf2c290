"""An import file's bytes → observations of containers and B/Ls, and the rows that could not be read.

Pure (no database): the reading reuses `parsers.tables` (format sniffing, header search, aliases)
and adds what ERP and analysts' sheets need on top:

- a header row anywhere in the first rows, named in English or Chinese (订单号, 提单号, 箱号, 客户,
  预计到港 ...), plus the import source's own aliases (`ImportSource.columns`);
- several containers in one cell ("MSKU1234565 / TGHU6961213", one per line, comma-separated):
  one observation per container; an invalid number in such a cell is reported, the others go in;
- a row without a container but with a B/L is an order ↔ B/L link (subject bill_of_lading);
- each bad row is reported with its row number and reason (invalid check digit, no identifiers,
  unknown B/L format); summary lines and repeated headers are skipped, not problems;
- blank cells say nothing (an ERP's empty ETA is "not known", never "no ETA");
- only the link and booking columns are interpreted; every other column is kept verbatim.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from parsers.tables import (
    FIELD_ALIASES,
    HeaderMatcher,
    RowProblem,
    Table,
    TableReading,
    read_tables,
    table_observations,
)
from quaysync.errors import BadInputError, InvalidContainerNumber, LayoutChangedError
from quaysync.model import FIELDS, Observation, ParseContext, SubjectKind
from sync.containers import normalize_bill_of_lading, normalize_container_number

PARSER = "import.table/1"

# Header words ERP / WMS exports and analysts use beyond the shared vocabulary's aliases.
IMPORT_ALIASES: Mapping[str, tuple[str, ...]] = {
    "container_no": (
        "containers", "container nos", "container numbers", "container list", "cntrs", "ctnrs",
        "箱号列表", "柜号列表", "集装箱", "箱号/柜号",
    ),
    "mbl_no": ("b/l no.", "bl#", "b/l#", "mbl#", "提单号码", "提单编号", "主提单"),
    "order_ref": (
        "po#", "po no.", "order#", "so", "so no", "sales order", "sales order no", "order id",
        "订单编号", "销售订单", "采购订单", "采购订单号", "订单号码", "合同号",
    ),
    "customer": ("buyer", "account", "客户名", "货主", "买家", "客户简称"),
    "eta": ("eta port", "eta pod", "预计到港日", "预到港", "预计到港日期时间"),
}  # fmt: skip

# What an import states, besides its subject: the rest of a sheet is kept verbatim, not read.
LINK_FIELDS = frozenset({"container_no", "mbl_no", "order_ref", "customer"})
WATCHLIST_FIELDS = LINK_FIELDS | {
    "eta",
    "carrier",
    "vessel",
    "voyage",
    "port_of_loading",
    "port_of_discharge",
    "container_spec",
}

# Between numbers in one cell: line breaks, commas, slashes, semicolons, "and" / 和 ...
_SEPARATORS = re.compile(r"[\n\r\t,;/|，；、＋+&]+|\s+(?:and|AND|和|及)\s+")
# A container-number-shaped token, loose enough to catch wrong check digits and categories.
_CANDIDATE = re.compile(r"(?<![A-Z0-9])[A-Z]{4}[\s\-]?\d{6}[\s\-]?\d(?![A-Z0-9])")
_SPACES = re.compile(r"[\s\-.]+")
_REF_ROW = re.compile(r"!R(\d+)$")


@dataclass(frozen=True)
class RowIssue:
    """A row (or one number of a row) that did not go in, or was skipped, and why."""

    sheet: str
    row: int  # 1-based, as a person counts rows in the sheet
    reason: str
    kind: str = "bad_input"  # the error taxonomy word: business (invalid number) / bad_input
    subject: str | None = None  # the number or value the reason is about
    raw: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "sheet": self.sheet,
            "row": self.row,
            "reason": self.reason,
            "kind": self.kind,
            "subject": self.subject,
        }


@dataclass
class ImportReading:
    observations: list[Observation] = field(default_factory=list)
    problems: list[RowIssue] = field(default_factory=list)  # bad rows: reported and stored
    skipped: list[RowIssue] = field(default_factory=list)  # summary lines, repeated headers
    sheets: dict[str, int] = field(default_factory=dict)  # sheet read → its header row
    columns: dict[str, dict[str, str]] = field(default_factory=dict)  # sheet → field → header
    rows: int = 0  # data rows that gave at least one observation
    duplicates: int = 0  # observations repeating an earlier row of the same file

    @property
    def containers(self) -> set[str]:
        return {
            normalize_container_number(str(observation.fields["container_no"]))
            for observation in self.observations
            if observation.subject == "container"
        }

    @property
    def bills_of_lading(self) -> set[str]:
        found = set()
        for observation in self.observations:
            raw = observation.fields.get("mbl_no")
            bill = normalize_bill_of_lading(str(raw)) if raw else None
            if bill:
                found.add(bill)
        return found


def import_matcher_aliases(extra: Mapping[str, Sequence[str]] | None) -> dict[str, list[str]]:
    """The source's own aliases first, then the import words, then the shared vocabulary's."""
    merged: dict[str, list[str]] = {name: list(words) for name, words in (extra or {}).items()}
    for aliases in (IMPORT_ALIASES, FIELD_ALIASES):
        for name, words in aliases.items():
            merged.setdefault(name, []).extend(words)
    return merged


def split_container_cell(text: str) -> tuple[list[str], list[tuple[str, str]]]:
    """The container numbers written in one cell: (valid numbers as written, [(piece, reason)]).

    "MSKU1234565 / TGHU6961213", one per line, comma- or space-separated; a single number may
    itself contain spaces or dashes ("MSKU 123456-5").
    """
    numbers: list[str] = []
    bad: list[tuple[str, str]] = []
    for piece in _SEPARATORS.split(text):
        piece = piece.strip()
        if not piece:
            continue
        compact = _SPACES.sub("", piece).upper()
        if len(compact) == 11 or not _CANDIDATE.search(piece.upper()):
            candidates = [piece]
        else:
            upper = piece.upper()
            candidates = [match.group(0) for match in _CANDIDATE.finditer(upper)]
            leftover = _CANDIDATE.sub(" ", upper).strip()
            if leftover:
                candidates.append(leftover)
        for candidate in candidates:
            try:
                normalize_container_number(candidate)
            except InvalidContainerNumber as error:
                bad.append((candidate, error.reason))
            else:
                numbers.append(candidate)
    return numbers, bad


def _row_of(observation: Observation) -> int:
    match = _REF_ROW.search(observation.source_ref)
    return int(match.group(1)) if match else 0


def _clean_fields(
    fields: Mapping[str, Any], interpreted: frozenset[str], default_customer: str | None
) -> tuple[dict[str, Any], dict[str, str | None] | None]:
    """Blank cells dropped; vocabulary fields outside `interpreted` kept verbatim but not read."""
    cleaned = {
        name: value
        for name, value in fields.items()
        if value is not None and not (isinstance(value, str) and not value.strip())
    }
    if default_customer and not cleaned.get("customer"):
        cleaned["customer"] = default_customer
    vocabulary = set(FIELDS)
    ignored = {name: None for name in cleaned if name in vocabulary and name not in interpreted}
    return cleaned, (ignored or None)


def _read_table(
    table: Table,
    context: ParseContext,
    aliases: Mapping[str, Sequence[str]],
    subject: SubjectKind,
) -> TableReading | None:
    try:
        return table_observations(table, context, parser=PARSER, extra_aliases=aliases, subject=subject)
    except LayoutChangedError:
        return None


def _no_container(problem: RowProblem) -> bool:
    """A row whose container cell is empty or holds words ("TBA"): it may still link a B/L."""
    return problem.reason.startswith("no container_no in column") or (
        problem.reason.startswith("container_no column holds") and "has no digit" in problem.reason
    )


class _Collector:
    """Builds the reading of one file: observations in row order, problems, duplicates."""

    def __init__(self, interpreted: frozenset[str], default_customer: str | None) -> None:
        self.reading = ImportReading()
        self.interpreted = interpreted
        self.default_customer = default_customer
        self._seen: set[str] = set()
        self._rows_with_observations: set[tuple[str, int]] = set()

    def problem(
        self,
        sheet: str,
        row: int,
        reason: str,
        *,
        kind: str = "bad_input",
        subject: str | None = None,
        raw: Sequence[str] = (),
    ) -> None:
        self.reading.problems.append(RowIssue(sheet, row, reason, kind, subject, tuple(raw)))

    def add(self, sheet: str, observation: Observation, fields: dict[str, Any]) -> None:
        cleaned, meanings = _clean_fields(fields, self.interpreted, self.default_customer)
        observation = replace(observation, fields=cleaned, meanings=meanings)
        digest = observation.content_hash()
        if digest in self._seen:
            self.reading.duplicates += 1
        else:
            self._seen.add(digest)
            self.reading.observations.append(observation)
        self._rows_with_observations.add((sheet, _row_of(observation)))

    def finish(self) -> ImportReading:
        self.reading.rows = len(self._rows_with_observations)
        self.reading.problems.sort(key=lambda issue: (issue.sheet, issue.row))
        return self.reading


def _bill_problem(fields: Mapping[str, Any]) -> str | None:
    raw = fields.get("mbl_no")
    if raw is None or not str(raw).strip():
        return None
    if normalize_bill_of_lading(str(raw)) is None:
        return f"unknown B/L format {str(raw).strip()[:60]!r} (expected 6-40 letters and digits)"
    return None


def _take_container_rows(collector: _Collector, sheet: str, reading: TableReading) -> None:
    for observation in reading.observations:
        row = _row_of(observation)
        fields = dict(observation.fields)
        raw_values = tuple(str(value) for value in fields.values() if value is not None)
        bill_problem = _bill_problem(fields)
        if bill_problem:
            collector.problem(sheet, row, bill_problem, subject=str(fields.get("mbl_no")), raw=raw_values)
            continue
        numbers, bad = split_container_cell(str(fields.get("container_no") or ""))
        for piece, reason in bad:
            collector.problem(
                sheet,
                row,
                f"invalid container number {piece!r}: {reason}",
                kind="business",
                subject=piece,
                raw=raw_values,
            )
        for number in numbers:
            collector.add(sheet, observation, {**fields, "container_no": number})


def _take_bill_rows(
    collector: _Collector, sheet: str, reading: TableReading | None, wanted_rows: set[int] | None
) -> set[int]:
    """B/L observations (order ↔ B/L links) of the rows in `wanted_rows` (None: all); rows taken."""
    taken: set[int] = set()
    if reading is None:
        return taken
    for observation in reading.observations:
        row = _row_of(observation)
        if wanted_rows is not None and row not in wanted_rows:
            continue
        fields = dict(observation.fields)
        raw_values = tuple(str(value) for value in fields.values() if value is not None)
        taken.add(row)
        bill_problem = _bill_problem(fields)
        if bill_problem:
            collector.problem(sheet, row, bill_problem, subject=str(fields.get("mbl_no")), raw=raw_values)
            continue
        collector.add(sheet, observation, fields)
    return taken


def _report_row_problems(
    collector: _Collector, sheet: str, problems: Sequence[RowProblem], taken: set[int]
) -> None:
    for problem in problems:
        if problem.row_number in taken:
            continue
        if problem.reason.startswith("summary line") or problem.reason == "repeated header row":
            # Expected in exports ("Total: 12", a header repeated per printed page): nothing lost.
            reason = problem.reason.replace("container_no", "container").replace("mbl_no", "B/L")
            collector.reading.skipped.append(RowIssue(sheet, problem.row_number, reason))
            continue
        reason = "no identifiers: no container number and no B/L"
        if "has no digit" in problem.reason:
            words = problem.reason.split(" holds ", 1)[-1].split(", which", 1)[0]
            reason = f"no identifiers: {words} is neither a container number nor a B/L"
        collector.problem(sheet, problem.row_number, reason, raw=problem.raw)


def read_import(
    filename: str,
    content: bytes,
    *,
    source: str,
    source_ref: str,
    observed_at: datetime,
    time_zone: str | None = None,
    extra_aliases: Mapping[str, Sequence[str]] | None = None,
    default_customer: str | None = None,
    sheet: str | None = None,
    links_only: bool = False,
) -> ImportReading:
    """Observations of an import file (see the module docstring).

    BadInputError: the file cannot be read (or `sheet` is not in it). LayoutChangedError: no
    sheet has a header row naming a container or B/L column.
    """
    tables = read_tables(filename, content)
    if sheet is not None:
        chosen = [table for table in tables if table.name == sheet]
        if not chosen:
            names = ", ".join(repr(table.name) for table in tables)
            raise BadInputError(f"{filename}: no worksheet {sheet!r} (worksheets: {names})")
        tables = chosen
    context = ParseContext(source=source, source_ref=source_ref, observed_at=observed_at, time_zone=time_zone)
    aliases = import_matcher_aliases(extra_aliases)
    collector = _Collector(LINK_FIELDS if links_only else WATCHLIST_FIELDS, default_customer)
    for table in tables:
        if not table.rows:
            continue
        by_container = _read_table(table, context, aliases, "container")
        if by_container is not None:
            collector.reading.sheets[table.name] = by_container.header_row
            collector.reading.columns[table.name] = dict(by_container.columns)
            _take_container_rows(collector, table.name, by_container)
            lacking = {problem.row_number for problem in by_container.problems if _no_container(problem)}
            taken: set[int] = set()
            if lacking and "mbl_no" in by_container.columns:
                by_bill = _read_table(table, context, aliases, "bill_of_lading")
                taken = _take_bill_rows(collector, table.name, by_bill, lacking)
            _report_row_problems(collector, table.name, by_container.problems, taken)
            continue
        by_bill = _read_table(table, context, aliases, "bill_of_lading")
        if by_bill is not None:
            collector.reading.sheets[table.name] = by_bill.header_row
            collector.reading.columns[table.name] = dict(by_bill.columns)
            _take_bill_rows(collector, table.name, by_bill, None)
            _report_row_problems(collector, table.name, by_bill.problems, set())
    if not collector.reading.sheets:
        matcher = HeaderMatcher(aliases)
        examples = [
            word for word in ("Container No.", "箱号", "B/L No.", "提单号") if matcher.field_for(word)
        ]
        raise LayoutChangedError(
            f"{filename}: no header row naming a container or B/L column in "
            f"{len(tables)} sheet(s) (such as {', '.join(repr(word) for word in examples)})"
        )
    return collector.finish()
