"""TraPac terminals' availability result (the "main" transaction page).

The result table has a two-row header: groups (Holds, Demurrage, Dimensions, ...) spanning
sub-columns (Line, Customs, ... / LFD, Amt, Hold). Columns are named "Group/Sub" by expanding the
spans, so the parser follows the header rather than fixed positions.
"""

from __future__ import annotations

import re

from bs4 import Tag

from quaysync.errors import LayoutChangedError
from quaysync.model import Observation, ParseContext

from ._common import Fields, not_found, observe_all, soup, text_of

FAMILY = "trapac"
PARSER = "trapac.main/1"

_NO_RESULT = re.compile(r"No result found for the reference number:\s*(?P<number>\S+)")
_WANTED = ("Number", "Holds/Customs", "Demurrage/LFD", "Demurrage/Amt", "Demurrage/Hold", "Yard Status",
           "Dimensions", "Vsl / Voy")  # fmt: skip


def _span(cell: Tag) -> int:
    try:
        return max(1, int(str(cell.get("colspan", 1))))
    except ValueError:
        return 1


def column_names(thead: Tag) -> list[str]:
    """'Group/Sub' per column position from a group row over a sub-column row."""
    rows = thead.find_all("tr")
    if len(rows) != 2:
        raise LayoutChangedError(f"{PARSER}: expected a two-row table header, found {len(rows)}")
    groups: list[tuple[str, int]] = []
    for th in rows[0].find_all("th"):
        groups.extend([(text_of(th), _span(th))] * _span(th))
    subs = [text_of(th) for th in rows[1].find_all("th")]
    if len(subs) != len(groups):
        raise LayoutChangedError(f"{PARSER}: header rows disagree ({len(groups)} vs {len(subs)} columns)")
    return [
        f"{group}/{sub}" if width > 1 and sub else group
        for (group, width), sub in zip(groups, subs, strict=True)
    ]


def _row_values(row: Tag, names: list[str]) -> dict[str, str]:
    """Column name → text, a spanning cell counting under its first column's group name."""
    values: dict[str, str] = {}
    position = 0
    for cell in row.find_all("td", recursive=False):
        if position >= len(names):
            break
        name = names[position]
        values.setdefault(name.split("/")[0] if _span(cell) > 1 else name, text_of(cell))
        position += _span(cell)
    return values


def parse_main(content: bytes, context: ParseContext) -> list[Observation]:
    page = soup(content, what=PARSER)
    result = page.select_one("div.transaction-result table")
    if result is None or result.thead is None:
        raise LayoutChangedError(f"{PARSER}: result table 'div.transaction-result table' not found")
    names = column_names(result.thead)
    records: list[Fields] = []
    unknown: list[Observation] = []
    for row in result.select("tbody > tr"):
        message = _NO_RESULT.search(text_of(row))
        if message is not None:
            unknown.append(not_found(context, message.group("number"), text_of(row), parser=PARSER))
            continue
        if "row-final" in (row.get("class") or []) or "row-payment" in (row.get("class") or []):
            continue
        value = _row_values(row, names)
        missing = [name for name in _WANTED if name not in value]
        if missing:
            raise LayoutChangedError(f"{PARSER}: column(s) {', '.join(missing)} not found in a result row")
        vessel, _, voyage = value["Vsl / Voy"].partition("/")
        records.append(
            {
                "container_no": value["Number"],
                "last_free_day": value["Demurrage/LFD"],
                "customs_release": value["Holds/Customs"],
                "demurrage": value["Demurrage/Amt"],
                "container_spec": value["Dimensions"],
                "holds": value["Demurrage/Hold"],
                "cy_location": value["Yard Status"],
                "vessel": vessel,
                "voyage": voyage,
            }
        )
    return observe_all(context, records, parser=PARSER) + unknown


PAGES = {"main": parse_main}
