"""Georgia Ports (Navis WebAccess) "Availability Inquiry" report, and the login page.

The report lists one row per number of the inquiry (a number asked twice is listed twice; the
duplicate is dropped). Release columns read "RELEASED"/"HOLD" and availability is an ok/cancel
icon: the reference expectations turn these into booleans. A value outside that vocabulary is
kept as the portal wrote it rather than guessed into a boolean.
"""

from __future__ import annotations

import re

from bs4 import Tag

from quaysync.errors import AccountLocked, LayoutChangedError
from quaysync.model import Observation, ParseContext

from ._common import Fields, RawValue, observe_all, soup, text_of

FAMILY = "gpa"
PARSER = "gpa.container/1"

# Column positions in the report body; the header has a two-row "PORT" group (LFD, PTD, GTD).
_HEADERS = ["Available", "Equip Id", "PORT", "Location", "Facility", "Line Status", "Custom Status"]
_AVAILABLE, _CONTAINER, _LFD, _LOCATION, _LINE, _CUSTOMS = 0, 1, 2, 5, 7, 8
_WIDTH = 12
_EMPTY_REPORT = "No items found for this table."
_BLOCKED = re.compile(r"account has been blocked|exceeded the number of allowable login attempts", re.I)


def _release(word: str) -> RawValue:
    return {"RELEASED": True, "HOLD": False}.get(word, word)


def _available(cell: Tag) -> RawValue:
    icon = cell.find("img")
    title = icon.get("title") if icon is not None else None
    return {"Yes": True, "No": False}.get(str(title), title)


def _report(content: bytes) -> Tag:
    page = soup(content, what=PARSER)
    table = page.select_one("table#Table1")
    if table is None:
        raise LayoutChangedError(f"{PARSER}: report table 'table#Table1' not found")
    headers = [text_of(th) for th in table.find_all("th")]
    if headers[: len(_HEADERS)] != _HEADERS:
        raise LayoutChangedError(f"{PARSER}: report headers changed: {headers}")
    return table


def parse_container(content: bytes, context: ParseContext) -> list[Observation]:
    """One observation per report row; "No items found for this table." names nothing (→ [])."""
    records: list[Fields] = []
    for row in _report(content).select("tbody.tablebody1 > tr"):
        cells = row.find_all("td", recursive=False)
        if len(cells) == 1 and text_of(cells[0]) == _EMPTY_REPORT:
            continue
        if len(cells) != _WIDTH:
            raise LayoutChangedError(f"{PARSER}: a report row has {len(cells)} cells, expected {_WIDTH}")
        records.append(
            {
                "container_no": text_of(cells[_CONTAINER]),
                "available": _available(cells[_AVAILABLE]),
                "carrier_release": _release(text_of(cells[_LINE])),
                "customs_release": _release(text_of(cells[_CUSTOMS])),
                # Verbatim: an empty LFD cell is a lone non-breaking space, which the reference keeps.
                "last_free_day": cells[_LFD].get_text(),
                "yard_location": text_of(cells[_LOCATION]),
            }
        )
    return observe_all(context, records, parser=PARSER)


def parse_login(content: bytes, context: ParseContext) -> list[Observation]:
    """WebAccess pages: no container data; the lock-out notice raises AccountLocked."""
    page = soup(content, what="gpa.login/1")
    notice = page.find(string=_BLOCKED)
    if notice is not None:
        raise AccountLocked(f"gpa.login/1: {text_of(notice.parent)}")
    if page.find(string=re.compile("WebAccess|Navis")) is None:
        raise LayoutChangedError("gpa.login/1: Navis WebAccess page markers not found")
    return []


PAGES = {"container": parse_container, "login": parse_login}
