"""APM Terminals import availability (the JSON the track-and-trace page loads)."""

from __future__ import annotations

from quaysync.errors import LayoutChangedError
from quaysync.model import Observation, ParseContext

from ._common import Fields, load_json, observe_all, or_none, require_keys

FAMILY = "apm"
PARSER = "apm.container/1"

_KEYS = (
    "ContainerId", "Freight", "Customs", "DischargedDate", "ReadyForDelivery", "AppointmentDate",
    "StoragePaidThroughDate", "GateOutDate", "Demurrage", "LineId", "SizeTypeHeight", "Holds",
    "YardLocation", "VesselName", "BillOfLading", "GrossWeight", "HazardousClass",
)  # fmt: skip


def _container(result: dict) -> Fields:
    require_keys(result, _KEYS, PARSER)
    bills, holds = result["BillOfLading"] or [], result["Holds"] or []
    if not all(isinstance(value, str) for value in [*bills, *holds]):
        raise LayoutChangedError(f"{PARSER}: BillOfLading/Holds are no longer lists of strings")
    return {
        "container_no": result["ContainerId"],
        "carrier_release": result["Freight"],
        "customs_release": result["Customs"],
        "discharge_date": or_none(result["DischargedDate"]),
        "ready_for_pick_up": result["ReadyForDelivery"],
        "available": result["ReadyForDelivery"],
        "appointment_date": result["AppointmentDate"],
        "last_free_day": or_none(result["StoragePaidThroughDate"]),
        "gate_out_date": or_none(result["GateOutDate"]),
        "demurrage": or_none(result["Demurrage"]),
        "carrier": result["LineId"],
        "container_spec": result["SizeTypeHeight"],
        "holds": ",".join(holds),
        "cy_location": result["YardLocation"],
        "yard_location": result["YardLocation"],
        "vessel": result["VesselName"],
        # A container normally travels on one B/L; several are kept, joined, rather than dropped.
        "mbl_no": ",".join(bills) if bills else None,
        "weight": result["GrossWeight"],
        "hazardous": or_none((result["HazardousClass"] or "").strip()),
    }


def parse_container(content: bytes, context: ParseContext) -> list[Observation]:
    """Each result is one container; an empty result list names nothing (→ [])."""
    payload = load_json(content, what=PARSER)
    if not isinstance(payload, dict) or not isinstance(payload.get("ContainerAvailabilityResults"), list):
        raise LayoutChangedError(f"{PARSER}: 'ContainerAvailabilityResults' list not found")
    return observe_all(
        context, (_container(r) for r in payload["ContainerAvailabilityResults"]), parser=PARSER
    )


PAGES = {"container": parse_container}
