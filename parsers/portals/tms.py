"""TMS (International Transportation Service "tms2") container availability.

Each container is a summary row (read by its header text) followed by a collapsed detail row of
label/value cells (labels carry the class "bgactive").
"""

from __future__ import annotations

from bs4 import Tag

from quaysync.errors import LayoutChangedError
from quaysync.model import Observation, ParseContext

from ._common import Fields, header_index, observe_all, soup, text_of

FAMILY = "tms"
PARSER = "tms.container_availability/1"

_COLUMNS = {
    "container_no": "Container#", "carrier": "Line", "container_spec": "SzTpHt", "chassis_no": "Chassis#",
    "discharged": "Dschg Date", "pick_up": "Pick Up", "last_free_day": "LFD",
}  # fmt: skip
_DETAIL = ("Vessel", "Voyage", "B/L#", "Customs", "Freight", "Spot", "Demurrage")


def _detail(row: Tag | None) -> dict[str, str]:
    if row is None:
        raise LayoutChangedError(f"{PARSER}: a container row has no detail row after it")
    facts = {}
    for label in row.select("td.bgactive"):
        value = label.find_next_sibling("td")
        facts.setdefault(text_of(label), text_of(value))
    missing = [name for name in _DETAIL if name not in facts]
    if missing:
        raise LayoutChangedError(f"{PARSER}: detail label(s) {', '.join(missing)} not found")
    return facts


def parse_container_availability(content: bytes, context: ParseContext) -> list[Observation]:
    """The alert "No record is found." carries no number (the search box may hold B/L numbers): → []."""
    page = soup(content, what=PARSER)
    form = page.select_one("form#formAvailabilityBody")
    if form is None:
        if page.select_one("form#formAvailabilityHeader") is not None and page.select_one("div.alert"):
            return []
        raise LayoutChangedError(f"{PARSER}: availability table 'form#formAvailabilityBody' not found")
    table = form.find("table")
    header = table.find("tr") if table is not None else None
    if header is None:
        raise LayoutChangedError(f"{PARSER}: availability table has no header row")
    headers = [text_of(th) for th in header.find_all("th")]
    column = header_index(headers, _COLUMNS, PARSER)
    records: list[Fields] = []
    for row in header.find_next_siblings("tr"):
        cells = row.find_all("td", recursive=False)
        if len(cells) != len(headers):
            continue  # the collapsed detail row (one cell spanning the table), read below
        value = {field: text_of(cells[index]) for field, index in column.items()}
        detail = _detail(row.find_next_sibling("tr", id=value["container_no"]))
        records.append(
            {
                "available": value["pick_up"],
                "container_no": value["container_no"],
                "carrier_release": detail["Freight"],
                "customs_release": detail["Customs"],
                # The reference files the discharge date column under appointment_date.
                "appointment_date": value["discharged"],
                "ready_for_pick_up": value["pick_up"],
                "last_free_day": value["last_free_day"],
                "demurrage": detail["Demurrage"],
                "carrier": value["carrier"],
                "container_spec": value["container_spec"],
                "vessel": detail["Vessel"],
                "mbl_no": detail["B/L#"],
                "voyage": detail["Voyage"],
                "gate_out_date": detail["Spot"],  # "DELIVERED 08/18/2021"
                "chassis_no": value["chassis_no"],
            }
        )
    return observe_all(context, records, parser=PARSER, meanings=MEANINGS)


# The captured convention files the discharge time under appointment_date and the spot
# ("DELIVERED 08/18/2021") under gate_out_date; normalize them as what they are.
MEANINGS = {"appointment_date": "discharge_date", "gate_out_date": "status"}

PAGES = {"container_availability": parse_container_availability}
