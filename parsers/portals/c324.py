"""C324 (Seagirt, Baltimore): the track API's container list."""

from __future__ import annotations

from quaysync.errors import LayoutChangedError
from quaysync.model import Observation, ParseContext

from ._common import Fields, load_json, observe_all, require_keys

FAMILY = "c324"
PARSER = "c324.container/1"

_KEYS = (
    "ContainerNumber", "AvailabilityDisplayStatus", "CustomReleaseStatus", "CarrierReleaseStatus",
    "LastFreeDt", "Length", "Type", "Height", "DemurrageAmount", "CarrierName", "CarrierHold",
    "VesselCode", "VoyageNumber", "BillOfLadingNumber", "GrossWeight", "DischargeTime", "DemurrageStatus",
)  # fmt: skip


def _container(record: dict) -> Fields:
    require_keys(record, _KEYS, PARSER)
    # Size as "Length/Type/Height" with the inch mark dropped, as the reference expectations spell it.
    height = (record["Height"] or "").replace('"', "")
    return {
        "container_no": record["ContainerNumber"],
        "carrier_release": record["CarrierReleaseStatus"],
        "customs_release": record["CustomReleaseStatus"],
        "discharge_date": record["DischargeTime"],
        "ready_for_pick_up": record["AvailabilityDisplayStatus"],
        "last_free_day": record["LastFreeDt"],
        "demurrage": record["DemurrageAmount"],
        "carrier": record["CarrierName"],
        "container_spec": f"{record['Length']}/{record['Type']}/{height}",
        "holds": record["CarrierHold"],
        "vessel": record["VesselCode"],
        "voyage": record["VoyageNumber"],
        "mbl_no": record["BillOfLadingNumber"],
        "weight": record["GrossWeight"],
        "demurrage_status": record["DemurrageStatus"],
    }


def parse_container(content: bytes, context: ParseContext) -> list[Observation]:
    """A JSON list, one record per known container; `[]` names nothing (→ [])."""
    payload = load_json(content, what=PARSER)
    if not isinstance(payload, list) or not all(isinstance(r, dict) for r in payload):
        raise LayoutChangedError(f"{PARSER}: expected a JSON list of container records")
    return observe_all(context, (_container(r) for r in payload), parser=PARSER)


PAGES = {"container": parse_container}
