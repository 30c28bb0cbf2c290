"""Tideworks Forecast (fc-XXX sites): container detail, availability search, signed-in home.

A Forecast page lists its facts as `<div>Label: <strong>value</strong> ...</div>`; labels are read
from the English site. The detail page's header is "Container - <number>".
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bs4 import BeautifulSoup, Tag

from quaysync.errors import LayoutChangedError
from quaysync.model import Observation, ParseContext

from ._common import Fields, clean, not_found, observe_all, soup, strings_of, text_of

FAMILY = "tideworks"
DETAIL = "tideworks.container_detail/1"
SEARCH = "tideworks.search_container/1"

_HEADER = re.compile(r"^Container\s*-\s*(?P<number>\S+)$")
_VESSEL = re.compile(r"^(?P<vessel>.+)/(?P<voyage>[^/]*)$")


def labelled_values(section: Tag) -> dict[str, list[str]]:
    """Label → the text pieces after it, for every leaf <div> that reads "Label: value ...".

    The label is everything up to the first piece ending with ":" (a label may be split over
    responsive spans such as "Del. Order"/"Delivery Order"); the first occurrence of a label wins.
    """
    facts: dict[str, list[str]] = {}
    for div in section.find_all("div"):
        if div.find("div") is not None:
            continue
        pieces = strings_of(div)
        end = next((i for i, piece in enumerate(pieces) if piece.endswith(":")), None)
        if end is None:
            continue
        label = clean(" ".join(pieces[: end + 1]))[:-1].strip()
        facts.setdefault(label, pieces[end + 1 :])
    return facts


def detail_page(content: bytes, what: str) -> tuple[str, dict[str, list[str]]]:
    """(container number, labelled facts) of a Forecast container detail page."""
    page = forecast_page(content, what)
    header = page.select_one("div.page-header h2")
    match = _HEADER.match(text_of(header)) if header is not None else None
    if match is None:
        raise LayoutChangedError(f"{what}: 'div.page-header h2' with 'Container - <number>' not found")
    body = header.find_parent("div", class_="container") or page
    facts = labelled_values(body)
    for label in ("Available for pickup", "Size/Type", "Location", "Vessel/Voyage", "Line"):
        if label not in facts:
            raise LayoutChangedError(f"{what}: label {label!r} not found on the detail page")
    return match.group("number"), facts


def joined(facts: dict[str, list[str]], label: str, default: str | None = "") -> str | None:
    return " ".join(facts[label]) if label in facts else default


def first(facts: dict[str, list[str]], label: str, default: str | None = "") -> str | None:
    pieces = facts.get(label)
    return pieces[0] if pieces else default


def vessel_of(vessel_voyage: str | None) -> str | None:
    """'MSC VAISHNAVI R./151W' → 'MSC VAISHNAVI R.' (the voyage is after the last slash)."""
    match = _VESSEL.match(vessel_voyage or "")
    return match.group("vessel") if match else vessel_voyage


def _no_holds(value: str | None) -> str | None:
    # Forecast writes "None" when there are no holds; the reference reads that as no value.
    return None if value is not None and value.lower() == "none" else value


def parse_container_detail(content: bytes, context: ParseContext) -> list[Observation]:
    number, facts = detail_page(content, DETAIL)
    location = joined(facts, "Location")
    fields: Fields = {
        "container_no": number,
        "discharge_date": joined(facts, "Unload Date"),
        "ready_for_pick_up": joined(facts, "Available for pickup"),
        "available": joined(facts, "Available for pickup"),
        # "40DH" then its description; the description is what the reference keeps.
        "container_spec": facts["Size/Type"][-1] if facts["Size/Type"] else "",
        "carrier": joined(facts, "Line"),
        "cy_location": location,
        "yard_location": location,
        "vessel": vessel_of(joined(facts, "Vessel/Voyage")),
        "weight": joined(facts, "Weight"),
        # The status word comes first, the date it was set after it.
        "carrier_release": first(facts, "Line Release Status"),
        "customs_release": first(facts, "Customs Release Status"),
        "last_free_day": joined(facts, "Satisfied Thru"),
        "demurrage": joined(facts, "Demurrage"),
        "holds": _no_holds(joined(facts, "Holds", None)),
    }
    return observe_all(context, [fields], parser=DETAIL)


def forecast_page(content: bytes, what: str) -> BeautifulSoup:
    """The page with its small-screen duplicates removed: Forecast writes responsive labels twice
    ("Cust Rel Sts" for phones, "Customs Release Status" for desktops); the desktop one is kept."""
    page = soup(content, what=what)
    for duplicate in page.select(".hidden-md.hidden-lg"):
        duplicate.decompose()
    return page


def _not_found_row(cell: Tag, context: ParseContext, parser: str) -> Observation | None:
    """'<strong>NUMBER</strong> could not be found' (a link to nearby terminals may follow)."""
    number = text_of(cell.find("strong"))
    words = clean(" ".join(cell.find_all(string=True, recursive=False)))
    return not_found(context, number, words, parser=parser) if number and words else None


def search_parser(parser: str) -> Callable[[bytes, ParseContext], list[Observation]]:
    def parse(content: bytes, context: ParseContext) -> list[Observation]:
        """The availability search: one summary row per container found, and for a number it
        does not know, a row "<number> could not be found" (→ a not_found observation)."""
        table = forecast_page(content, parser).select_one("div#result table")
        if table is None:
            raise LayoutChangedError(f"{parser}: result table 'div#result table' not found")
        records: list[Fields] = []
        unknown: list[Observation] = []
        for row in table.find_all("tr"):
            cells = row.find_all("td", recursive=False)
            if len(cells) == 1:
                missing = _not_found_row(cells[0], context, parser)
                if missing is None:
                    raise LayoutChangedError(
                        f"{parser}: a one-cell result row is not 'NUMBER could not be found'"
                    )
                unknown.append(missing)
            elif len(cells) >= 5:
                records.append(_search_row(cells))
            elif cells:
                raise LayoutChangedError(f"{parser}: a result row has {len(cells)} cells, expected 5")
        return observe_all(context, records, parser=parser) + unknown

    return parse


def _search_row(cells: list[Tag]) -> Fields:
    holds = labelled_values(cells[3])
    info = labelled_values(cells[4])
    size = strings_of(cells[2])
    available = text_of(cells[1])
    return {
        "container_no": text_of(cells[0].find("a") or cells[0]),
        "ready_for_pick_up": available,
        "available": available,
        "container_spec": size[-1] if size else "",
        "carrier": joined(info, "Line"),
        "cy_location": joined(info, "Location"),
        "yard_location": joined(info, "Location"),
        "vessel": vessel_of(joined(info, "Ves/Voy")),
        "carrier_release": first(holds, "Line Release Status"),
        "customs_release": first(holds, "Customs Release Status"),
        "last_free_day": joined(holds, "Satisfied Thru"),
        "holds": _no_holds(joined(holds, "Holds", None)),
    }


parse_search_container = search_parser(SEARCH)


def parse_login(content: bytes, context: ParseContext) -> list[Observation]:
    """After signing in Forecast shows its home page: no container data."""
    page = soup(content, what="tideworks.login/1")
    if page.select_one("div.navbar") is None or page.find(string=re.compile("Tideworks")) is None:
        raise LayoutChangedError("tideworks.login/1: Forecast navbar / Tideworks footer not found")
    return []


PAGES = {
    "container_detail": parse_container_detail,
    "search_container": parse_search_container,
    "login": parse_login,
}
