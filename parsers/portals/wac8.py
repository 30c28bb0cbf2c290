"""WAC8 (Navis "container inquiry" JSON): one record per container, plus a not-found record."""

from __future__ import annotations

from typing import Any

from quaysync.errors import LayoutChangedError
from quaysync.model import Observation, ParseContext

from ._common import Fields, load_json, not_found, observe_all, require_keys

FAMILY = "wac8"
PARSER = "wac8.container/1"

_KEYS = (
    "containerId", "discharged", "type", "available", "freeTimeExpiration", "fakeId", "dateDeliverd",
    "vessel", "inboundVoyageNumber", "line", "location", "freightKind", "listOfFlag", "owed",
    "hasNotFound", "notFoundIds",
)  # fmt: skip
_FLAGS = {
    "TMF_CONTAINER_HOLD": "tmf",
    "CUSTOMS_DEFAULT_HOLD": "customs_release",
    "FREIGHT_BL_HOLD": "carrier_release",
}


def _container(record: dict[str, Any]) -> Fields:
    flags: dict[str, str | None] = dict.fromkeys(_FLAGS.values())
    for flag in record["listOfFlag"] or []:
        if flag.get("holdName") in _FLAGS:
            flags[_FLAGS[flag["holdName"]]] = flag.get("type")
    # fakeId carries the booked appointment as "<time>#<ref>"; empty when there is none.
    appointment = (record["fakeId"] or "").split("#")[0] or None
    return {
        "container_no": record["containerId"],
        "carrier_release": flags["carrier_release"],
        "customs_release": flags["customs_release"],
        "discharge_date": record["discharged"],
        "ready_for_pick_up": record["available"],
        "available": record["available"],
        "appointment_date": appointment,
        "gate_out_date": record["dateDeliverd"],
        "last_free_day": record["freeTimeExpiration"],
        "carrier": record["line"],
        "container_spec": record["type"],
        "cy_location": record["location"],
        "yard_location": record["location"],
        "vessel": record["vessel"],
        "voyage": record["inboundVoyageNumber"],
        "tmf": flags["tmf"],
        "owed": record["owed"],
        "full_empty": record["freightKind"],
    }


def parse_container(content: bytes, context: ParseContext) -> list[Observation]:
    """Records with a containerId are containers; a record flagged hasNotFound names the unknown
    numbers in notFoundIds (→ not_found observations); all-null filler records state nothing."""
    payload = load_json(content, what=PARSER)
    if not isinstance(payload, list):
        raise LayoutChangedError(f"{PARSER}: expected a JSON list of records")
    records: list[Fields] = []
    unknown: list[str] = []
    for record in payload:
        if not isinstance(record, dict):
            raise LayoutChangedError(f"{PARSER}: a record is not a JSON object")
        require_keys(record, _KEYS, PARSER)
        if record["containerId"]:
            records.append(_container(record))
        elif record["hasNotFound"]:
            unknown.extend(record["notFoundIds"] or [])
    observations = observe_all(context, records, parser=PARSER)
    observations += [not_found(context, number, "hasNotFound", parser=PARSER) for number in unknown]
    return observations


PAGES = {"container": parse_container}
