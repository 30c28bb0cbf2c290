"""Pacific Container Terminal: Tideworks Forecast pages, read with the older PCT field set
(release statuses with their dates, holds and the single "Demurrage" amount as written)."""

from __future__ import annotations

from quaysync.model import Observation, ParseContext

from ._common import Fields, observe_all
from .tideworks import detail_page, joined, search_parser, vessel_of

FAMILY = "pct"
DETAIL = "pct.container_detail/1"


def parse_container_detail(content: bytes, context: ParseContext) -> list[Observation]:
    number, facts = detail_page(content, DETAIL)
    fields: Fields = {
        "container_no": number,
        "discharge_date": joined(facts, "Unload Date"),
        "ready_for_pick_up": joined(facts, "Available for pickup"),
        "container_spec": facts["Size/Type"][-1] if facts["Size/Type"] else "",
        "carrier": joined(facts, "Line"),
        "cy_location": joined(facts, "Location"),
        "vessel": vessel_of(joined(facts, "Vessel/Voyage")),
        "weight": joined(facts, "Weight"),
        "freight_release": joined(facts, "Line Release Status"),
        "customs_release": joined(facts, "Customs Release Status"),
        "last_free_day": joined(facts, "Satisfied Thru"),
        "demurrage": joined(facts, "Demurrage"),
        "holds": joined(facts, "Holds"),
    }
    return observe_all(context, [fields], parser=DETAIL)


PAGES = {
    "container_detail": parse_container_detail,
    "search_container": search_parser("pct.search_container/1"),
}
