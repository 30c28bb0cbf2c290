"""V136 availability grid (DataTables JSON: positional "aaData" rows), and the login step."""

from __future__ import annotations

from quaysync.errors import LayoutChangedError
from quaysync.model import Observation, ParseContext

from ._common import decode, load_json, not_found, observe_all

FAMILY = "v136"
PARSER = "v136.container/1"

# The grid has no header in its JSON: the row width is the structure we check. Positions:
_WIDTH = 19
_AVAILABLE, _CONTAINER, _HOLDS, _CUSTOMS, _LINE, _LOCATION, _LFD = 1, 2, 5, 6, 7, 8, 9


def parse_container(content: bytes, context: ParseContext) -> list[Observation]:
    """One row per container; {"aaData": [], "Error": "<number>"} names an unknown container."""
    payload = load_json(content, what=PARSER)
    rows = payload.get("aaData") if isinstance(payload, dict) else None
    if not isinstance(rows, list):
        raise LayoutChangedError(f"{PARSER}: 'aaData' row list not found")
    records = []
    for row in rows:
        if not isinstance(row, list) or len(row) != _WIDTH:
            raise LayoutChangedError(f"{PARSER}: a row does not have the grid's {_WIDTH} columns")
        records.append(
            {
                "available": row[_AVAILABLE],
                "container_no": row[_CONTAINER],
                "holds": row[_HOLDS],
                "customs_release": row[_CUSTOMS],
                "carrier_release": row[_LINE],
                "last_free_day": row[_LFD],
                "yard_location": row[_LOCATION],
            }
        )
    observations = observe_all(context, records, parser=PARSER)
    if not rows and isinstance(payload.get("Error"), str) and payload["Error"].strip():
        observations.append(not_found(context, payload["Error"].strip(), "Error", parser=PARSER))
    return observations


def parse_login(content: bytes, context: ParseContext) -> list[Observation]:
    """The login step answers with an empty body (the session cookie is the answer).

    Any other answer is a page we have never seen (a login error, a CAPTCHA, ...): it is reported
    as a layout change rather than read as a success.
    """
    if decode(content, what="v136.login/1").strip():
        raise LayoutChangedError("v136.login/1: expected the empty login answer, got a page")
    return []


PAGES = {"container": parse_container, "login": parse_login}
