"""ETSLink (Everport Terminal Services): column-described JSON availability, login, home page."""

from __future__ import annotations

from typing import Any

from quaysync.errors import LayoutChangedError, LoginRejected
from quaysync.model import Observation, ParseContext

from ._common import Fields, load_json, observe_all, require, soup

FAMILY = "ets"
PARSER = "ets.container/1"

# Field → the PO_* column name the availability response declares in "cols".
_COLUMNS = {
    "container_no": "PO_CNTR_NO",
    "available": "PO_AVAILABLE_IND",
    "customs_release": "PO_USA_STATUS",
    "freight_release": "PO_FR_STATUS",
    "carrier_release": "PO_CARRIER_STATUS",
    "holds": "PO_TMNL_HOLD_IND",
    "tmf": "PO_TMF_STATUS",
    "demurrage_status": "PO_DM_STATUS",
    "demurrage": "PO_DM_AMT_DUE",
    "last_free_day": "PO_DM_LAST_FREE_DATE",
    "appointment_date": "PO_APPOINTMENT_TIME",
    "carrier": "PO_CARRIER_SCAC_CODE",
    "yard_location": "PO_YARD_LOC",
    "service": "PO_SVC_QFR_DESC",
    "size": "PO_CNTR_TYPE_S",
    "type": "PO_CNTR_TYPE_T",
    "height": "PO_CNTR_TYPE_H",
}


def _container(row: dict[str, Any]) -> Fields:
    return {
        "container_no": row["container_no"],
        "ready_for_pick_up": row["available"],
        "available": row["available"],
        "customs_release": row["customs_release"],
        "appointment_date": row["appointment_date"],
        "last_free_day": row["last_free_day"],
        "demurrage": row["demurrage"],
        "carrier": row["carrier"],
        "container_spec": f"{row['size']}/{row['type']}/{row['height']}",
        "holds": row["holds"],
        "cy_location": row["yard_location"],
        "yard_location": row["yard_location"],
        "service": row["service"],
        "carrier_release": row["carrier_release"],
        "tmf": row["tmf"],
        "demurrage_status": row["demurrage_status"],
        "freight_release": row["freight_release"],
    }


def parse_container(content: bytes, context: ParseContext) -> list[Observation]:
    """Rows are read by the column names the response declares, so column order may change.

    A rejected search ("success": false, e.g. a malformed number) carries only a message row
    without a container number: the page names no container, so it yields [].
    """
    payload = load_json(content, what=PARSER)
    if not isinstance(payload, dict):
        raise LayoutChangedError(f"{PARSER}: expected a JSON object")
    columns = require(payload.get("cols"), PARSER, "'cols' column list")
    names = [column.get("name") for column in columns if isinstance(column, dict)]
    missing = [name for name in _COLUMNS.values() if name not in names]
    if missing:
        raise LayoutChangedError(f"{PARSER}: column(s) {', '.join(missing)} not declared in 'cols'")
    data = payload.get("data")
    if not isinstance(data, list):
        raise LayoutChangedError(f"{PARSER}: 'data' row list not found")
    records = []
    for raw in data:
        if not isinstance(raw, list) or len(raw) != len(names):
            raise LayoutChangedError(f"{PARSER}: a data row does not match the {len(names)} declared columns")
        by_name = dict(zip(names, raw, strict=True))
        row = {field: by_name[name] for field, name in _COLUMNS.items()}
        if row["container_no"]:
            records.append(_container(row))
    return observe_all(context, records, parser=PARSER)


def parse_login(content: bytes, context: ParseContext) -> list[Observation]:
    """The login answer: no container data; a refused login is a LoginRejected."""
    payload = load_json(content, what="ets.login/1")
    if not isinstance(payload, dict) or "success" not in payload:
        raise LayoutChangedError("ets.login/1: 'success' member not found")
    if payload["success"] is not True:
        raise LoginRejected(f"ets.login/1: login refused: {payload.get('msg') or 'no message'}")
    return []


def parse_main_page(content: bytes, context: ParseContext) -> list[Observation]:
    """The public home page: no container data, but it must still be an ETSLink page."""
    page = soup(content, what="ets.main_page/1")
    if page.find(string=lambda s: s is not None and "ETSLink" in s) is None:
        raise LayoutChangedError("ets.main_page/1: ETSLink page markers not found")
    return []


PAGES = {"container": parse_container, "login": parse_login, "main_page": parse_main_page}
