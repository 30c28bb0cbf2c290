"""South Carolina Ports (GoPort, an ExtJS app) "Track Imports by Container" quick report.

ExtJS draws the report as a header of `div.x-column-header#gridcolumn-N` and body cells with the
class `x-grid-cell-gridcolumn-N`: cells are matched to headers by that id, so the report's
column order does not matter. No reference expectation exists for this family; the mapping
keeps each column's words under the field its header names.
"""

from __future__ import annotations

from bs4 import Tag

from quaysync.errors import LayoutChangedError
from quaysync.model import Observation, ParseContext

from ._common import Fields, observe_all, soup, text_of

FAMILY = "scspa"
PARSER = "scspa.container/1"

_COLUMNS = {
    "container_no": "CONTAINER",
    "carrier": "SSL",
    "vessel": "VESSEL",  # "RDO FORTUNE / 003W": vessel and voyage as one phrase
    "discharge_date": "VESSEL UNLOAD",
    "available": "RELEASE SUMMARY",
    "holds": "HOLD DETAIL",
    "gate_out_date": "MARINE TERMINAL GATE EXIT",
}


def _report_columns(page: Tag) -> dict[str, str]:
    """Header text → column id, for the grid whose headers include CONTAINER."""
    headers = {text_of(header): header.get("id", "") for header in page.select("div.x-column-header")}
    missing = [name for name in _COLUMNS.values() if name not in headers]
    if missing:
        raise LayoutChangedError(f"{PARSER}: report column(s) {', '.join(missing)} not found")
    return headers


def parse_container(content: bytes, context: ParseContext) -> list[Observation]:
    page = soup(content, what=PARSER)
    headers = _report_columns(page)
    key_class = f"x-grid-cell-{headers['CONTAINER']}"
    records: list[Fields] = []
    for row in page.select("table.x-grid-table tr"):
        if row.find("td", class_=key_class) is None:
            continue
        record: Fields = {}
        for field, header in _COLUMNS.items():
            cell = row.find("td", class_=f"x-grid-cell-{headers[header]}")
            if cell is None:
                raise LayoutChangedError(f"{PARSER}: a report row lacks the {header!r} cell")
            record[field] = text_of(cell)
        records.append(record)
    return observe_all(context, records, parser=PARSER)


PAGES = {"container": parse_container}
