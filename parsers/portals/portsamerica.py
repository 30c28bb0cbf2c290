"""Ports America VoyagerTrack "Import - Container Information" report (one row per container)."""

from __future__ import annotations

from quaysync.errors import LayoutChangedError
from quaysync.model import Observation, ParseContext

from ._common import Fields, header_index, observe_all, soup, strings_of, text_of

FAMILY = "portsamerica"
PARSER = "portsamerica.search_container/1"

_COLUMNS = {
    "container_no": "Container Number",
    "available": "Available",
    "state": "Current State",
    "appointment_date": "Appointment Time",
    "customs_release": "Customs Status",
    "carrier_release": "Freight Status",
    "holds": "Misc. Holds",
    "demurrage": "Demurrage Amount",
    "last_free_day": "Last Free Day",
    "carrier": "SSCO",
    "container_spec": "Type",
}


def parse_search_container(content: bytes, context: ParseContext) -> list[Observation]:
    """Columns are found by their header text, so the report may reorder or add columns."""
    page = soup(content, what=PARSER)
    table = page.select_one("div[data-name=ContainerList] table")
    if table is None or table.thead is None:
        raise LayoutChangedError(f"{PARSER}: report table 'div[data-name=ContainerList] table' not found")
    headers = [text_of(th) for th in table.thead.find_all("th")]
    column = header_index(headers, _COLUMNS, PARSER)
    records: list[Fields] = []
    for row in table.select("tbody > tr"):
        cells = row.find_all("td", recursive=False)
        if len(cells) != len(headers):
            raise LayoutChangedError(f"{PARSER}: a row has {len(cells)} cells for {len(headers)} columns")
        value = {field: text_of(cells[index]) for field, index in column.items()}
        available = strings_of(cells[column["available"]])
        records.append(
            {
                # The report writes the check digit after a dash: "ZCSU873985-1".
                "container_no": value["container_no"].replace("-", ""),
                "ready_for_pick_up": value["available"],  # "No (TMF Hold)"
                "available": available[0] if available else "",  # "No"
                # The reference files the current state (e.g. "On Ship") under gate_out_date too.
                "gate_out_date": value["state"],
                "appointment_date": value["appointment_date"],
                "customs_release": value["customs_release"],
                "carrier_release": value["carrier_release"],
                "holds": value["holds"],
                "demurrage": value["demurrage"],
                "last_free_day": value["last_free_day"],
                "carrier": value["carrier"],
                "container_spec": value["container_spec"],
                "yard_location": value["state"],
            }
        )
    return observe_all(context, records, parser=PARSER, meanings=MEANINGS)


# The captured convention files the current state ("On Ship") under gate_out_date.
MEANINGS = {"gate_out_date": "status"}

PAGES = {"search_container": parse_search_container}
