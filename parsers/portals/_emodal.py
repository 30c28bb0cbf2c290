"""eModal datahub container access list, shared by ProPass VA (propassva) and PortTruckPass (ptp).

The access list holds every container the account watches. A row whose "id" is null is a number
the hub could not match (its data members are all null): the hub names it but says nothing more,
so it yields nothing; the caller sees the container absent from the answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from quaysync.errors import LayoutChangedError
from quaysync.model import Observation, ParseContext

from ._common import Fields, load_json, observe_all

_ROW_KEYS = (
    "id", "unit_nbr", "drayunitstatus_desc", "lastfree_dttm", "shipmentstatus", "drayunitactivity",
    "confeeinfo", "unitinfo", "locations",
)  # fmt: skip


def _event_time(row: dict[str, Any], description: str) -> str | None:
    for activity in row["drayunitactivity"] or []:
        if activity.get("event_desc") == description:
            return activity.get("event_dttm")
    return None


def _releases(row: dict[str, Any]) -> dict[str, str | None]:
    releases: dict[str, str | None] = {"CUSTOMS": None, "FREIGHT": None}
    for source in row["shipmentstatus"] or []:
        for hold in source.get("holdsinfo") or []:
            releases[hold.get("type")] = hold.get("status")
    return releases


def _paid_demurrage(row: dict[str, Any]) -> str | None:
    for fee in row["confeeinfo"] or []:
        if fee.get("feestatus_dsc") == "Paid":
            return fee.get("feepaid")
    return None


def _vessel(row: dict[str, Any]) -> dict[str, Any]:
    locations = row["locations"] or []
    info = (locations[0].get("locationinfo") or {}) if locations else {}
    arrival = info.get("arrivalinfo") or {}
    return arrival.get("vesselinfo") or {}


def _container(row: dict[str, Any]) -> Fields:
    releases = _releases(row)
    vessel = _vessel(row)
    unit = row["unitinfo"] or {}
    return {
        "available": _event_time(row, "Ready for pick up"),
        "container_no": row["unit_nbr"],
        "customs_release": releases["CUSTOMS"],
        "freight_release": releases["FREIGHT"],
        "demurrage": _paid_demurrage(row),
        "gate_out_date": _event_time(row, "Departed Terminal"),
        "last_free_day": row["lastfree_dttm"],
        "carrier": unit.get("ownerline_scac"),
        "container_spec": unit.get("unitsztype_cd"),
        "vessel": vessel.get("vessel_nm"),
        "voyage": vessel.get("voyage_nbr"),
        "yard_location": row["drayunitstatus_desc"],
    }


def access_list_parser(family: str) -> Callable[[bytes, ParseContext], list[Observation]]:
    parser = f"{family}.container/1"

    def parse(content: bytes, context: ParseContext) -> list[Observation]:
        payload = load_json(content, what=parser)
        rows = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(rows, list):
            raise LayoutChangedError(f"{parser}: 'data' list not found")
        records = []
        for row in rows:
            missing = [key for key in _ROW_KEYS if not isinstance(row, dict) or key not in row]
            if missing:
                raise LayoutChangedError(f"{parser}: a row lacks {', '.join(missing)}")
            if row["id"] is not None:
                records.append(_container(row))
        return observe_all(context, records, parser=parser)

    return parse
