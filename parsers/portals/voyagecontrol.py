"""VoyageControl (Lynx) watch list: the JSON list of traced containers, and the login answer.

The watch list holds every container the account traces; a row states something only once the
terminal has filled its "status" block, so rows with an empty status yield nothing. Which of the
listed containers the bot asked about is not in the bytes: every stated row is returned and the
caller picks (a container missing from the list is simply absent).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from quaysync.errors import LayoutChangedError
from quaysync.model import Observation, ParseContext

from ._common import Fields, load_json, observe_all

FAMILY = "voyagecontrol"

_STATUS_NAME = re.compile(r"^CONTAINER_STATUS_(?P<status>\w+)$")
_ROW_KEYS = ("containerId", "status", "containerStatus")


def status_word(row: dict[str, Any], what: str) -> str:
    """'CONTAINER_STATUS_OnHold' → 'OnHold' (the portal's own status word)."""
    name = (row.get("containerStatus") or {}).get("name") or ""
    match = _STATUS_NAME.match(name)
    if match is None:
        raise LayoutChangedError(f"{what}: unexpected containerStatus name {name!r}")
    return match.group("status")


def traced_rows(content: bytes, what: str) -> list[dict[str, Any]]:
    """The watch-list rows that carry a status block (the others state nothing yet)."""
    payload = load_json(content, what=what)
    rows = payload.get("rows") if isinstance(payload, dict) else None
    if not isinstance(rows, list):
        raise LayoutChangedError(f"{what}: 'rows' list not found")
    stated = []
    for row in rows:
        if not isinstance(row, dict) or any(key not in row for key in _ROW_KEYS):
            raise LayoutChangedError(f"{what}: a row lacks one of {', '.join(_ROW_KEYS)}")
        if row["status"]:
            stated.append(row)
    return stated


def _container(row: dict[str, Any], what: str) -> Fields:
    status = row["status"]
    return {
        "container_no": row["containerId"],
        "ready_for_pick_up": status_word(row, what),
        "appointment_date": status.get("APPOINTMENT_HOLD", ""),
        "last_free_day": status.get("PORT_LFD", ""),
        "demurrage": status.get("DEMURRAGE", ""),
        "holds": status.get("HOLD_INFO", ""),
        "cy_location": status.get("LOCATIONDETAILS", ""),
        "customs_release": status.get("CUSTOMS", ""),
        "carrier_release": status.get("FREIGHT", ""),
    }


def watch_list_parser(
    family: str, to_fields: Callable[[dict[str, Any], str], Fields]
) -> Callable[[bytes, ParseContext], list[Observation]]:
    parser = f"{family}.listed_traced_containers/1"

    def parse(content: bytes, context: ParseContext) -> list[Observation]:
        return observe_all(
            context, (to_fields(row, parser) for row in traced_rows(content, parser)), parser=parser
        )

    return parse


def login_parser(family: str) -> Callable[[bytes, ParseContext], list[Observation]]:
    what = f"{family}.login/1"

    def parse(content: bytes, context: ParseContext) -> list[Observation]:
        """A successful login answers a JWT; no container data."""
        payload = load_json(content, what=what)
        if not isinstance(payload, dict) or not payload.get("token"):
            raise LayoutChangedError(f"{what}: 'token' not found in the login answer")
        return []

    return parse


PAGES = {
    "listed_traced_containers": watch_list_parser(FAMILY, _container),
    "login": login_parser(FAMILY),
}
