"""Fenix Marine Services: the VoyageControl watch list (older field set) and the B/L inquiry."""

from __future__ import annotations

from typing import Any

from quaysync.errors import LayoutChangedError
from quaysync.model import Observation, ParseContext

from ._common import Fields, load_json, or_none
from .voyagecontrol import login_parser, status_word, watch_list_parser

FAMILY = "fenix"
MBL_PARSER = "fenix.search_mbl/1"

# The bill_of_health blocks this parser understands. A customs block is not among them: the
# reference reads customs as released when no block says otherwise, which is only safe while
# no other status block can appear.
_KNOWN_BLOCKS = {"query-response", "lineStatus"}
_MBL_COLUMNS = ("BL Nbr", "Line Op", "Ves. Visit")


def _container(row: dict[str, Any], what: str) -> Fields:
    status = row["status"]
    return {
        "container_no": row["containerId"],
        "ready_for_pick_up": status_word(row, what),
        "appointment_date": or_none(status.get("APPOINTMENT_HOLD")),
        "last_free_day": status.get("PORT_LFD"),
        "demurrage": status.get("DEMURRAGE"),
        "holds": or_none(status.get("HOLD_INFO")),
        "cy_location": status.get("LOCATIONDETAILS"),
    }


def parse_search_mbl(content: bytes, context: ParseContext) -> list[Observation]:
    """The B/L inquiry states the bill (line, visit, line hold), not its containers.

    Freight is "Released" unless a lineStatus block names the hold; customs is "Released" as the
    page carries no customs hold. An unknown status block (e.g. customsStatus) → LayoutChangedError.
    """
    payload = load_json(content, what=MBL_PARSER)
    health = payload.get("bill_of_health") if isinstance(payload, dict) else None
    if not isinstance(health, dict) or "query-response" not in health:
        raise LayoutChangedError(f"{MBL_PARSER}: 'bill_of_health.query-response' not found")
    unknown = sorted(set(health) - _KNOWN_BLOCKS)
    if unknown:
        raise LayoutChangedError(f"{MBL_PARSER}: unknown bill_of_health block(s) {', '.join(unknown)}")
    try:
        table = health["query-response"]["data-table"]
        columns = table["columns"]["column"]
        rows = table["rows"]["row"]
    except (KeyError, TypeError) as error:
        raise LayoutChangedError(f"{MBL_PARSER}: data-table member {error} not found") from error
    observations = []
    for row in rows if isinstance(rows, list) else [rows]:
        values = row.get("field") if isinstance(row, dict) else None
        if not isinstance(values, list) or len(values) != len(columns):
            raise LayoutChangedError(f"{MBL_PARSER}: a row does not match the {len(columns)} columns")
        bill = dict(zip(columns, values, strict=True))
        missing = [name for name in _MBL_COLUMNS if name not in bill]
        if missing:
            raise LayoutChangedError(f"{MBL_PARSER}: column(s) {', '.join(missing)} not found")
        line_hold = (health.get("lineStatus") or {}).get("@id")
        fields = {
            "freight_release": line_hold or "Released",
            "customs_release": "Released",
            "carrier": bill["Line Op"],
            "mbl_no": bill["BL Nbr"],
            "voyage": bill["Ves. Visit"],
        }
        observations.append(context.observe(fields, parser=MBL_PARSER, subject="bill_of_lading"))
    return observations


PAGES = {
    "listed_traced_containers": watch_list_parser(FAMILY, _container),
    "login": login_parser(FAMILY),
    "search_mbl": parse_search_mbl,
}
