"""STG Logistics CFS tracking (Cargo Manager web): the container page, which is either the
"Container Information" detail (one match) or a "CFS Search Results" list (several files)."""

from __future__ import annotations

from bs4 import BeautifulSoup

from quaysync.errors import LayoutChangedError
from quaysync.model import Observation, ParseContext

from ._common import Fields, header_index, label_value_rows, observe_all, soup, text_of

FAMILY = "stg"
PARSER = "stg.container/1"

_DETAIL = {"container_no": "Container Number", "mbl_no": "Master Bill Number", "vessel": "Vessel Name",
           "available": "Status", "appointment_date": "Appointment Date"}  # fmt: skip
_LIST = {"container_no": "Container", "mbl_no": "Master Bill", "vessel": "Vessel", "available": "Status"}


def _detail(page: BeautifulSoup) -> list[Fields]:
    facts: dict[str, str] = {}
    for table in page.select("#cmsWorkarea table.dataDisplay"):
        for label, value in label_value_rows(table).items():
            facts.setdefault(label, value)
    missing = [label for label in _DETAIL.values() if label not in facts]
    if missing:
        raise LayoutChangedError(f"{PARSER}: detail label(s) {', '.join(missing)} not found")
    return [{field: facts[label] for field, label in _DETAIL.items()}]


def _results(page: BeautifulSoup) -> list[Fields]:
    table = page.select_one("#cmsWorkarea table.spreadsheet")
    if table is None or table.thead is None:
        raise LayoutChangedError(f"{PARSER}: 'table.spreadsheet' search results not found")
    headers = [text_of(th) for th in table.thead.find_all("th")]
    column = header_index(headers, _LIST, PARSER)
    records = []
    for row in table.select("tbody > tr"):
        cells = row.find_all("td", recursive=False)
        if len(cells) != len(headers):
            raise LayoutChangedError(
                f"{PARSER}: a result row has {len(cells)} cells for {len(headers)} columns"
            )
        records.append({field: text_of(cells[index]) for field, index in column.items()})
    return records


def parse_container(content: bytes, context: ParseContext) -> list[Observation]:
    """Detail → one observation; result list → one per file (a container may appear in several
    files, e.g. two voyages years apart); "No results found." names nothing (→ [])."""
    page = soup(content, what=PARSER)
    workarea = page.select_one("#cmsWorkarea")
    if workarea is None:
        raise LayoutChangedError(f"{PARSER}: '#cmsWorkarea' not found")
    if workarea.select_one("p.noResults") is not None:
        return []
    records = _detail(page) if workarea.select_one("table.dataDisplay") is not None else _results(page)
    return observe_all(context, records, parser=PARSER)


PAGES = {"container": parse_container}
