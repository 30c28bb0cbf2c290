"""Observation → normalized facts: the subject's key, DCSA-aligned events, and a status patch.

Pure: no database. A field the source did not give says nothing; a field it gave empty (or
"N/A") says "none" — so an empty last-free-day cell clears the value from that source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from quaysync.errors import InvalidContainerNumber
from quaysync.model import Observation
from sync.containers import normalize_bill_of_lading, normalize_container_number
from sync.dates import parse_day, parse_local_datetime
from sync.vocabulary import HOLD, INSPECTION, RELEASED, hold_facets, release_state, status_meaning

EVENT_TYPES = {
    **dict.fromkeys(
        (
            "LOAD",
            "DISC",
            "GTIN",
            "GTOT",
            "PICK",
            "DROP",
            "STUF",
            "STRP",
            "INSP",
            "RMVD",
            "AVPU",
            "CUSR",
            "CUSI",
        ),
        "EQUIPMENT",
    ),
    **dict.fromkeys(("ARRI", "DEPA"), "TRANSPORT"),
    **dict.fromkeys(("HOLD", "RELS"), "SHIPMENT"),
}
CLASSIFIERS = frozenset({"ACT", "EST", "PLN"})
HOLD_COLUMNS = (  # column → hold facet
    ("customs_release", "customs"),
    ("freight_release", "freight"),
    ("carrier_release", "line"),
    ("line_hold", "line"),
    ("usda_hold", "usda"),
    ("tmf", "tmf"),
)
TIMED_EQUIPMENT_FIELDS = (  # column → (code, classifier, empty indicator)
    ("discharge_date", "DISC", "ACT", "LADEN"),
    ("gate_out_date", "GTOT", "ACT", "LADEN"),
    ("load_date", "LOAD", "ACT", "LADEN"),
    ("gate_in_date", "GTIN", "ACT", None),
    ("empty_return_date", "GTIN", "ACT", "EMPTY"),
    ("appointment_date", "PICK", "PLN", "LADEN"),
)
TRANSPORT_FIELDS = (
    ("eta", "ARRI", "EST"),
    ("ata", "ARRI", "ACT"),
    ("etd", "DEPA", "EST"),
    ("atd", "DEPA", "ACT"),
)
STATUS_WORD_FIELDS = ("status", "available", "ready_for_pick_up", "cy_location", "vessel_status")
_AMOUNT = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


@dataclass(slots=True)
class EventFact:
    """One normalized fact about a subject. `event_at` None: the source gave no time."""

    event_code: str
    classifier: str
    event_at: datetime | None
    facet: str = ""  # which hold a HOLD/RELS event is about
    location_code: str | None = None
    facility: str | None = None
    vessel_name: str | None = None
    voyage: str | None = None
    empty_indicator: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def event_type(self) -> str:
        return EVENT_TYPES.get(self.event_code, "EQUIPMENT")


@dataclass(slots=True)
class Normalized:
    observation: Observation
    subject_key: str | None  # None: the subject's number is invalid (see problems)
    time_zone: str
    events: list[EventFact] = field(default_factory=list)
    status: dict[str, Any] = field(default_factory=dict)  # status field → JSON-able value
    lifecycle_hint: str | None = None
    problems: list[tuple[str, str]] = field(default_factory=list)  # (kind, reason)


def _text(fields: Any, name: str) -> str | None:
    value = fields.get(name)
    return None if value is None else str(value).strip()


def _present(observation: Observation) -> dict[str, str]:
    """The fields the source gave, as trimmed text under what they mean (None: it said nothing)."""
    if not observation.meanings:  # nearly always: the fields are named for what they mean
        return {name: str(value).strip() for name, value in observation.fields.items() if value is not None}
    meanings = observation.meanings
    present = {}
    for name, value in observation.fields.items():
        meaning = meanings.get(name, name)
        if value is not None and meaning is not None:
            present[meaning] = str(value).strip()
    return present


def _amount(text: str) -> str | None:
    match = _AMOUNT.search(text.replace(" ", ""))
    return match.group(0).replace(",", "") if match else None


def _subject_key(observation: Observation) -> tuple[str | None, list[tuple[str, str]]]:
    fields = observation.fields
    if observation.subject == "container":
        raw = _text(fields, "container_no")
        if not raw:
            return None, [("bad_input", "no container number")]
        try:
            return normalize_container_number(raw), []
        except InvalidContainerNumber as error:
            return None, [("business", str(error))]
    if observation.subject == "bill_of_lading":
        raw = _text(fields, "mbl_no") or ""
        key = normalize_bill_of_lading(raw)
        return (key, []) if key else (None, [("bad_input", f"{raw!r} is not a bill of lading number")])
    vessel = (_text(fields, "vessel") or "").upper()
    if not vessel:
        return None, [("bad_input", "a vessel call without a vessel name")]
    return f"{vessel}/{(_text(fields, 'voyage') or '').upper()}", []


def normalize(observation: Observation, default_zone: str = "UTC") -> Normalized:
    zone = observation.time_zone or default_zone
    subject_key, problems = _subject_key(observation)
    result = Normalized(observation, subject_key, zone, problems=problems)
    if subject_key is None:
        return result
    fields = _present(observation)
    status = result.status
    events = result.events
    vessel = fields.get("vessel") or None
    voyage = fields.get("voyage") or None
    location = (fields.get("location") or "").upper() or None
    facility = fields.get("terminal") or None
    empty_full = (fields.get("empty_full") or "").upper()
    empty_indicator = "EMPTY" if empty_full in ("E", "EMPTY", "4") else "LADEN" if empty_full else None

    def add(code: str, classifier: str, at: datetime | None, **extra: Any) -> None:
        transport = EVENT_TYPES.get(code) == "TRANSPORT"
        events.append(
            EventFact(
                code,
                classifier,
                at,
                location_code=location,
                facility=facility,
                vessel_name=vessel if transport or code in ("LOAD", "DISC") else None,
                voyage=voyage if transport or code in ("LOAD", "DISC") else None,
                **extra,
            )
        )

    not_found = fields.get("not_found")
    if observation.subject == "container":
        status["not_found"] = not_found or None
    if not_found:
        return result  # a "not known here" page states nothing else

    # Times the source gives explicitly.
    for name, code, classifier, indicator in TIMED_EQUIPMENT_FIELDS:
        text = fields.get(name)
        if text is None:
            continue
        moment = parse_local_datetime(text, zone) if text else None
        if name == "appointment_date":
            status["appointment_at"] = moment.isoformat() if moment else None
        if moment is not None:
            add(code, classifier, moment, empty_indicator=empty_indicator or indicator)
    for name, code, classifier in TRANSPORT_FIELDS:
        text = fields.get(name)
        if text is None:
            continue
        moment = parse_local_datetime(text, zone) if text else None
        if name in ("eta", "ata"):
            status[f"vessel_{name}"] = moment.isoformat() if moment else None
        if moment is not None:
            add(code, classifier, moment)
    code = (fields.get("event_code") or "").upper()
    if code:
        classifier = (fields.get("event_classifier") or "ACT").upper()
        moment = parse_local_datetime(fields.get("event_time") or "", zone)
        if classifier in CLASSIFIERS:
            add(code, classifier, moment, empty_indicator=empty_indicator)
        else:
            result.problems.append(("bad_input", f"unknown event classifier {classifier!r}"))

    # Status words, which may carry their own time ("Delivered 07/26/2021 19:35").
    for name in STATUS_WORD_FIELDS:
        text = fields.get(name)
        if not text:
            continue
        meaning = status_meaning(text)
        if meaning is None:
            continue
        if meaning.available is not None and name != "vessel_status":
            status["available"] = meaning.available
        if meaning.lifecycle:
            result.lifecycle_hint = meaning.lifecycle
        if meaning.event_code:
            add(
                meaning.event_code,
                "ACT",
                parse_local_datetime(text, zone),
                empty_indicator="EMPTY" if meaning.empty else empty_indicator,
                details={"words": text},
            )

    # Holds: a list column first, then the specific columns, which are more precise.
    holds: dict[str, str] = {}
    hold_list = fields.get("holds")
    if hold_list is not None:
        facets = hold_facets(hold_list)
        if facets is not None:
            holds = {facet: RELEASED for facet in ("customs", "freight", "line", "usda", "tmf", "other")}
            holds.update(facets)
    for column, facet in HOLD_COLUMNS:
        text = fields.get(column)
        if text is None:
            continue
        state = release_state(text)
        if state is not None:
            holds[facet] = state
    for facet, state in holds.items():
        status[f"hold_{facet}"] = state
        add("HOLD" if state in (HOLD, INSPECTION) else "RELS", "ACT", None, facet=facet)
        if facet == "customs":
            if state == RELEASED:
                add("CUSR", "ACT", None)
            elif state == INSPECTION:
                add("CUSI", "ACT", None)

    # Plain status values.
    for name, key in (("last_free_day", "last_free_day"), ("line_last_free_day", "line_last_free_day")):
        text = fields.get(name)
        if text is not None:
            day = parse_day(text)
            status[key] = day.isoformat() if day else None
    for name in ("demurrage", "fees"):
        text = fields.get(name)
        if text is not None:
            status[name] = _amount(text) if text else None
    yard = fields.get("yard_location")
    if yard is None:
        yard = fields.get("cy_location")
    if yard is not None:
        status["yard_location"] = yard or None
    bill = fields.get("mbl_no")
    if bill:
        status["bill_of_lading"] = normalize_bill_of_lading(bill)
    for name, key in (
        ("carrier", "carrier"),
        ("container_spec", "size_type"),
        ("vessel", "vessel_name"),
        ("voyage", "voyage"),
        ("terminal", "terminal"),
    ):
        text = fields.get(name)
        if text is not None:
            status[key] = text or None
    return result
