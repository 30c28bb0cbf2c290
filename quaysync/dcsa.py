"""Our events in DCSA Track & Trace 2.2 form, and the DCSA filters (for /v2/events and subscriptions).

A leaf module: standard library only, over rows of the `event` table, so the webhook fan-out
(sync/webhooks.py) renders and matches exactly as the API does.

Mapping decisions
- EQUIPMENT: LOAD DISC GTIN GTOT STUF STRP PICK DROP INSP RMVD as they are (DCSA codes).
  `emptyIndicatorCode` is required by DCSA: the stored indicator, else EMPTY for GTIN (an import
  box coming back is the empty return) and LADEN for the others.
  LOAD/DISC carry a `transportCall` when the vessel is known.
- TRANSPORT: ARRI/DEPA with a `transportCall` (modeOfTransport VESSEL). We know no IMO number, so
  the optional `vessel` object (which requires one) is left out; the voyage is the
  exportVoyageNumber; the terminal goes to otherFacility (facilityTypeCode POTE);
  transportCallID is a UUID derived from vessel, voyage and place, stable across replays.
- SHIPMENT: HOLD/RELS (holds and releases). documentTypeCode CUS for the customs facet, SRM
  (shipment release message) for freight, line, USDA, TMF and other holds; documentID is the
  B/L number when known, else the container number; the facet is said in `reason`; the
  container is a reference of type EQ. DCSA wants eventDateTime = eventCreatedDateTime here.
- Left out of /v2 (they stay in our own /containers/{n}/events): AVPU "available for pick-up"
  (no DCSA code says it, and mapping it to PICK would claim a pick-up that did not happen),
  CUSR and CUSI (the same facts are already the SHIPMENT RELS/HOLD events of the customs facet).
- documentReferences are left out: the spec's own enum for documentReferenceType is the literal
  text "TRD (Transport Document)", so a conforming "TRD" would fail validation against it.
- Times: eventDateTime in the event's local zone with its offset; eventCreatedDateTime in UTC.
- Only current versions are served; a superseded version is never sent to subscribers.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

API_VERSION = "2.2.0"

EVENT_TYPES = ("SHIPMENT", "TRANSPORT", "EQUIPMENT")
EQUIPMENT_CODES = ("LOAD", "DISC", "GTIN", "GTOT", "STUF", "STRP", "PICK", "DROP", "INSP", "RSEA", "RMVD")
TRANSPORT_CODES = ("ARRI", "DEPA")
SHIPMENT_CODES = (
    "RECE",
    "DRFT",
    "PENA",
    "PENU",
    "REJE",
    "APPR",
    "ISSU",
    "SURR",
    "SUBM",
    "VOID",
    "CONF",
    "REQS",
    "CMPL",
    "HOLD",
    "RELS",
)
DOCUMENT_TYPES = ("CBR", "BKG", "SHI", "SRM", "TRD", "ARN", "VGM", "CAS", "CUS", "DGD", "OOG")
# The codes of ours that go out under /v2, by DCSA event type.
SERVED = {
    "EQUIPMENT": ("LOAD", "DISC", "GTIN", "GTOT", "STUF", "STRP", "PICK", "DROP", "INSP", "RMVD"),
    "TRANSPORT": TRANSPORT_CODES,
    "SHIPMENT": ("HOLD", "RELS"),
}
SERVED_CODES = frozenset(code for codes in SERVED.values() for code in codes)
OMITTED = {
    "AVPU": "available for pick-up has no DCSA equipment event code",
    "CUSR": "served as the SHIPMENT RELS event of the customs facet",
    "CUSI": "served as the SHIPMENT HOLD event of the customs facet",
}
TRANSPORT_CALL_NAMESPACE = uuid.UUID("0c5e7f43-2f55-4a8e-9d1f-6b7a3c2d9e10")


@lru_cache(maxsize=256)
def _zone(name: str | None) -> Any:
    try:
        return ZoneInfo(name) if name else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _utc_text(moment: datetime) -> str:
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def _local_text(moment: datetime, zone_name: str | None) -> str:
    return moment.astimezone(_zone(zone_name)).isoformat(timespec="seconds")


@lru_cache(maxsize=65536)
def transport_call_id(vessel_name: str | None, voyage: str | None, location: str | None) -> str:
    key = "|".join(((vessel_name or "").upper(), (voyage or "").upper(), (location or "").upper()))
    return str(uuid.uuid5(TRANSPORT_CALL_NAMESPACE, key))


def _place(row: Any) -> str | None:
    return row.location_code or row.facility


def document_type(row: Any) -> str | None:
    if row.event_code not in SERVED["SHIPMENT"]:
        return None
    return "CUS" if (row.details or {}).get("facet") == "customs" else "SRM"


@lru_cache(maxsize=65536)
def _call(
    vessel_name: str | None, voyage: str | None, location_code: str | None, facility: str | None
) -> dict[str, Any]:
    call: dict[str, Any] = {
        "transportCallID": transport_call_id(vessel_name, voyage, location_code or facility),
        "modeOfTransport": "VESSEL",
    }
    if voyage:
        call["exportVoyageNumber"] = voyage[:50]
        call["carrierVoyageNumber"] = voyage[:50]
    if location_code and len(location_code) <= 5:
        call["UNLocationCode"] = location_code
    if facility:
        call["otherFacility"] = facility[:50]
        call["facilityTypeCode"] = "POTE"
    return call


def _transport_call(row: Any) -> dict[str, Any]:
    # Cached: many events share a call. The dict is shared — serialized, never changed.
    return _call(row.vessel_name, row.voyage, row.location_code, row.facility)


@lru_cache(maxsize=4096)
def _place_of(facility: str | None, location_code: str | None) -> dict[str, Any] | None:
    location: dict[str, Any] = {}
    if facility:
        location["locationName"] = facility[:100]
    if location_code and len(location_code) <= 5:
        location["UNLocationCode"] = location_code
    return location or None


def _location(row: Any) -> dict[str, Any] | None:
    return _place_of(row.facility, row.location_code)


def is_served(row: Any) -> bool:
    return row.event_code in SERVED.get(row.event_type, ())


def to_dcsa(row: Any, bill_of_lading: str | None = None) -> dict[str, Any]:
    """One event row (current version, served code) as a DCSA event.

    `bill_of_lading`: the B/L of the event's container, when the event is about a container.
    """
    created = _utc_text(row.created_at)
    event: dict[str, Any] = {
        "eventID": row.event_id,
        "eventCreatedDateTime": created,
        "eventType": row.event_type,
        "eventClassifierCode": row.classifier,
        "eventDateTime": _local_text(row.event_at, row.time_zone),
    }
    bill = row.bill_of_lading or bill_of_lading
    references = (
        [{"referenceType": "EQ", "referenceValue": row.container_number}] if row.container_number else []
    )
    if row.event_type == "EQUIPMENT":
        event["equipmentEventTypeCode"] = row.event_code
        if row.container_number:
            event["equipmentReference"] = row.container_number
        event["emptyIndicatorCode"] = row.empty_indicator or (
            "EMPTY" if row.event_code == "GTIN" else "LADEN"
        )
        location = _location(row)
        if location:
            event["eventLocation"] = location
        if row.vessel_name and row.event_code in ("LOAD", "DISC"):
            event["transportCall"] = _transport_call(row)
    elif row.event_type == "TRANSPORT":
        event["transportEventTypeCode"] = row.event_code
        event["transportCall"] = _transport_call(row)
        if references:
            event["references"] = references
    else:
        facet = (row.details or {}).get("facet") or "other"
        event["eventDateTime"] = created
        event["shipmentEventTypeCode"] = row.event_code
        event["documentTypeCode"] = document_type(row)
        event["documentID"] = bill or row.container_number or ""
        event["reason"] = f"{facet} {'hold' if row.event_code == 'HOLD' else 'released'}"
        if references:
            event["references"] = references
    return event


# ---------------------------------------------------------------------------------------------
# Filters: the same meaning for GET /v2/events and for what a subscription receives.


@dataclass
class EventFilters:
    """DCSA filters. Lists are OR within, everything is AND between.

    A code list of one event type (e.g. shipmentEventTypeCode) only lets events of that type
    through — as the spec's example says, shipmentEventTypeCode + equipmentEventTypeCode match
    nothing. Filters on data we do not hold (booking references, IMO numbers, service codes)
    match no event.
    """

    event_types: frozenset[str] | None = None
    shipment_codes: frozenset[str] | None = None
    document_types: frozenset[str] | None = None
    transport_codes: frozenset[str] | None = None
    equipment_codes: frozenset[str] | None = None
    equipment_reference: str | None = None
    transport_document_reference: str | None = None
    transport_call_id: str | None = None
    voyage: str | None = None
    un_location_code: str | None = None
    unmatchable: list[str] = field(default_factory=list)  # filters on data we do not hold

    def as_query(self) -> dict[str, Any]:
        """The filters as a plain mapping (for cursor fingerprints)."""
        return {
            name: sorted(value) if isinstance(value, frozenset) else value
            for name, value in self.__dict__.items()
        }

    def required_type(self) -> frozenset[str] | None:
        """The event types these filters can match (None: any)."""
        allowed = set(self.event_types) if self.event_types is not None else set(EVENT_TYPES)
        for codes, event_type in (
            (self.shipment_codes, "SHIPMENT"),
            (self.document_types, "SHIPMENT"),
            (self.transport_codes, "TRANSPORT"),
            (self.equipment_codes, "EQUIPMENT"),
        ):
            if codes is not None:
                allowed &= {event_type}
        return frozenset(allowed)


class FilterError(ValueError):
    """A filter value outside what DCSA allows."""


def _codes(value: Any, allowed: Sequence[str], name: str) -> frozenset[str] | None:
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else list(value)
    codes = [str(item).strip().upper() for item in items if str(item).strip()]
    if not codes:
        return None
    unknown = sorted(set(codes) - set(allowed))
    if unknown:
        raise FilterError(f"{name}: {', '.join(unknown)} not one of {', '.join(allowed)}")
    return frozenset(codes)


def _text(value: Any, name: str, max_length: int) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    if len(text) > max_length:
        raise FilterError(f"{name}: at most {max_length} characters")
    return text or None


UNMATCHABLE_FIELDS = (
    "carrierBookingReference",
    "bookingReference",
    "transportDocumentID",
    "scheduleID",
    "vesselIMONumber",
    "carrierServiceCode",
    "transportDocumentTypeCode",
)


def parse_filters(source: Mapping[str, Any]) -> EventFilters:
    """EventFilters from DCSA names (query parameters or a subscription body); FilterError if invalid."""
    equipment_reference = _text(source.get("equipmentReference"), "equipmentReference", 15)
    bill = _text(source.get("transportDocumentReference"), "transportDocumentReference", 20)
    location = _text(source.get("UNLocationCode"), "UNLocationCode", 5)
    voyage = _text(source.get("exportVoyageNumber") or source.get("carrierVoyageNumber"), "voyage", 50)
    return EventFilters(
        event_types=_codes(source.get("eventType"), EVENT_TYPES, "eventType"),
        shipment_codes=_codes(source.get("shipmentEventTypeCode"), SHIPMENT_CODES, "shipmentEventTypeCode"),
        document_types=_codes(source.get("documentTypeCode"), DOCUMENT_TYPES, "documentTypeCode"),
        transport_codes=_codes(
            source.get("transportEventTypeCode"), TRANSPORT_CODES, "transportEventTypeCode"
        ),
        equipment_codes=_codes(
            source.get("equipmentEventTypeCode"), EQUIPMENT_CODES, "equipmentEventTypeCode"
        ),
        equipment_reference=equipment_reference.upper() if equipment_reference else None,
        transport_document_reference=bill.upper() if bill else None,
        transport_call_id=_text(source.get("transportCallID"), "transportCallID", 100),
        voyage=voyage,
        un_location_code=location.upper() if location else None,
        unmatchable=[name for name in UNMATCHABLE_FIELDS if source.get(name) not in (None, "", [])],
    )


def matches(filters: EventFilters, row: Any, bill_of_lading: str | None = None) -> bool:
    """Does a (current, served) event row pass the filters? The Python twin of the /v2 SQL."""
    if filters.unmatchable or not is_served(row):
        return False
    if row.event_type not in (filters.required_type() or ()):
        return False
    code = row.event_code
    for codes, event_type in (
        (filters.shipment_codes, "SHIPMENT"),
        (filters.transport_codes, "TRANSPORT"),
        (filters.equipment_codes, "EQUIPMENT"),
    ):
        if codes is not None and row.event_type == event_type and code not in codes:
            return False
    if filters.document_types is not None and document_type(row) not in filters.document_types:
        return False
    if filters.equipment_reference and row.container_number != filters.equipment_reference:
        return False
    if filters.transport_document_reference:
        bill = row.bill_of_lading or bill_of_lading
        if bill != filters.transport_document_reference:
            return False
    if filters.un_location_code and row.location_code != filters.un_location_code:
        return False
    if filters.voyage and row.voyage != filters.voyage:
        return False
    if filters.transport_call_id:
        has_call = row.event_type == "TRANSPORT" or (row.vessel_name and code in ("LOAD", "DISC"))
        if (
            not has_call
            or transport_call_id(row.vessel_name, row.voyage, _place(row)) != filters.transport_call_id
        ):
            return False
    return True
