"""Z165 (Imperial CFS) availability: the Master B/L fact tables (<th>LABEL</th><td>value</td>)."""

from __future__ import annotations

from quaysync.errors import LayoutChangedError
from quaysync.model import Observation, ParseContext

from ._common import Fields, observe_all, or_none, soup, text_of

FAMILY = "z165"
PARSER = "z165.container/1"

_LABELS = {
    "container_no": "CONTAINER NO.",
    "last_free_day": "LAST FREE DATE",
    "vessel": "VESSEL",
    "mbl_no": "MBL NO.",
}


def parse_container(content: bytes, context: ParseContext) -> list[Observation]:
    """The banner "Unable to Locate Shipment" names nothing (→ []). Empty cells read as None."""
    page = soup(content, what=PARSER)
    facts: dict[str, str] = {}
    for row in page.select("table.data tr"):
        label, value = row.find("th"), row.find("td")
        if label is not None and value is not None:
            facts.setdefault(text_of(label), text_of(value))
    if not facts and page.select_one("div.Availability-table img[alt='Not Found']") is not None:
        return []
    missing = [label for label in _LABELS.values() if label not in facts]
    if missing:
        raise LayoutChangedError(f"{PARSER}: label(s) {', '.join(missing)} not found")
    fields: Fields = {field: or_none(facts[label]) for field, label in _LABELS.items()}
    return observe_all(context, [fields], parser=PARSER)


PAGES = {"container": parse_container}
