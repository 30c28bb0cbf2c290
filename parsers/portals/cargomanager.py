"""Cargo Manager CFS "container status display" (a label/value table), and its empty search.

Shared with other Cargo Manager warehouses (see wan2), which keep other fields of the same table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from bs4 import BeautifulSoup

from quaysync.errors import LayoutChangedError
from quaysync.model import Observation, ParseContext

from ._common import Fields, label_value_rows, observe_all, or_none, soup, text_of

FAMILY = "cargomanager"

_REQUIRED = ("Container No", "Master B/L No", "Vessel Name")


def status_display(page: BeautifulSoup, what: str) -> dict[str, str] | None:
    """Label → value of the status display, or None for the empty search ("No results found")."""
    table = page.select_one("table.cfsdetails")
    if table is None:
        results = page.select_one("table.spreadsheet")
        if results is not None and "No results found" in text_of(results):
            return None  # the portal's empty search names no container
        raise LayoutChangedError(f"{what}: 'table.cfsdetails' status display not found")
    facts = label_value_rows(table)
    missing = [label for label in _REQUIRED if label not in facts]
    if missing:
        raise LayoutChangedError(f"{what}: label(s) {', '.join(missing)} not found in the status display")
    return facts


def status_parser(
    family: str,
    page_name: str,
    to_fields: Callable[[dict[str, str]], Fields],
    meanings: Mapping[str, str | None] | None = None,
) -> Callable[[bytes, ParseContext], list[Observation]]:
    parser = f"{family}.{page_name}/1"

    def parse(content: bytes, context: ParseContext) -> list[Observation]:
        """The display shows one container. It may not be the one asked for (the portal answers
        its own match): the page's container is returned as stated and the caller compares."""
        facts = status_display(soup(content, what=parser), parser)
        if facts is None:
            return []
        return observe_all(context, [to_fields(facts)], parser=parser, meanings=meanings)

    return parse


def _container(facts: dict[str, str]) -> Fields:
    return {
        "container_no": facts["Container No"],
        "last_free_day": or_none(facts.get("Free Time Expires")),
        "vessel": or_none(facts["Vessel Name"]),
        "mbl_no": or_none(facts["Master B/L No"]),
        "available": or_none(facts.get("Status")),
    }


PAGES = {"container": status_parser(FAMILY, "container", _container)}
