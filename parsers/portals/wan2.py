"""WAN2 (Empire CFS on Cargo Manager): the same status display as `cargomanager`, other fields."""

from __future__ import annotations

from ._common import Fields, or_none
from .cargomanager import status_parser

FAMILY = "wan2"


def _container(facts: dict[str, str]) -> Fields:
    return {
        "container_no": facts["Container No"],
        "last_free_day": or_none(facts.get("Free Time Expires")),
        # "G.O. Starts" is the general-order date; the reference expectations file it here.
        "gate_out_date": or_none(facts.get("G.O. Starts")),
        "vessel": or_none(facts["Vessel Name"]),
        "mbl_no": or_none(facts["Master B/L No"]),
    }


# "container" is the search step: an empty search reads "No results found" (→ []); a single
# match may be answered with the status display itself.
# The general-order date is not a gate-out: keep it verbatim, normalize nothing from it.
MEANINGS = {"gate_out_date": None}

PAGES = {
    "container": status_parser(FAMILY, "container", _container, MEANINGS),
    "container_detail": status_parser(FAMILY, "container_detail", _container, MEANINGS),
}
