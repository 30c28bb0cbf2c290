"""Port Houston (Lynx MCA by Versiant) container availability page.

Values sit in `<span class="KEY data">` elements whose class names the fact (EQUIPMENTNBR,
FREIGHT, CUSTOMS, ...): keyed on those, the parser does not depend on the page language.
"""

from __future__ import annotations

from quaysync.errors import LayoutChangedError
from quaysync.model import Observation, ParseContext

from ._common import observe_all, soup, text_of

FAMILY = "poha"
PARSER = "poha.container/1"

_SPANS = {
    "container_no": "EQUIPMENTNBR",
    "carrier_release": "FREIGHT",
    "customs_release": "CUSTOMS",
    "weight": "VGM",
    "holds": "HOLDS",
    "carrier": "SHIPPINGLINE",
    "container_spec": "SIZETYPEHEIGHT",
}


def parse_container(content: bytes, context: ParseContext) -> list[Observation]:
    """The page shows the container it matched, as stated (it may differ from the number asked:
    the caller compares). An unmatched search shows the same layout with blank values and no
    availability banner; it does not name the container, so it yields []."""
    page = soup(content, what=PARSER)
    results = page.select_one("div.results")
    if results is None:
        raise LayoutChangedError(f"{PARSER}: 'div.results' section not found")
    values = {}
    for field, key in _SPANS.items():
        span = results.select_one(f"span.{key}.data")
        if span is None:
            raise LayoutChangedError(f"{PARSER}: value 'span.{key}.data' not found")
        values[field] = text_of(span)
    if not values["container_no"]:
        return []
    # The availability banner (MainContent_pnlReady / pnlHold / ...) says it in words.
    banner = results.select_one("div[id^=MainContent_pnl]")
    fields = {"available": text_of(banner) if banner is not None else None, **values}
    return observe_all(context, [fields], parser=PARSER)


PAGES = {"container": parse_container}
