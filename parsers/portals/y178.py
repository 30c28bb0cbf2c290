"""Y178 (GCT Bayonne "Global Terminal" search): the Container Inquiry label/value table."""

from __future__ import annotations

from bs4 import BeautifulSoup

from quaysync.errors import LayoutChangedError
from quaysync.model import Observation, ParseContext

from ._common import Fields, observe_all, soup, text_of

FAMILY = "y178"
PARSER = "y178.container/1"

_LABELS = {
    "container_no": "Container #",
    "carrier_release": "Freight Released",
    "customs_release": "Customs Released",
    "ready_for_pick_up": "Available for Pickup",
    "discharge_date": "Discharge Date",
    # The page states the last free day; the reference expectation has null here (its spider read
    # a fixed table position that missed it), so this field knowingly differs from it.
    "last_free_day": "Last Free Day",
    "gate_out_date": "Gate Out Date",
}


def _inquiry(page: BeautifulSoup) -> dict[str, str]:
    facts: dict[str, str] = {}
    for label in page.select("td.label-column"):
        value = label.find_next_sibling("td")
        facts.setdefault(text_of(label).rstrip(":").strip(), text_of(value))
    return facts


def parse_container(content: bytes, context: ParseContext) -> list[Observation]:
    """The inquiry table; "No containers found matching your search." names no number (→ [])."""
    page = soup(content, what=PARSER)
    said_none = page.select_one(".not-found-text, div.error-messages") is not None
    if said_none and not page.select("td.label-column"):
        return []
    facts = _inquiry(page)
    missing = [label for label in _LABELS.values() if label not in facts]
    if missing:
        raise LayoutChangedError(f"{PARSER}: inquiry label(s) {', '.join(missing)} not found")
    fields: Fields = {field: facts[label] for field, label in _LABELS.items()}
    return observe_all(context, [fields], parser=PARSER)


PAGES = {"container": parse_container}
