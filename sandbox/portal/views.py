"""What the pages show, as display strings: search input, result rows, detail and vessel rows.

Pure functions of (world, moment, labels): the same seed and moment give the same strings, so
pages captured with a pinned clock are reproducible.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from stdnum import iso6346

from sandbox.portal.labels import Labels
from sandbox.world import TERMINAL_NAME, TERMINAL_ZONE, ContainerState, VesselCall, World

_SEPARATORS = re.compile(r"[\s,;，；、]+")


@dataclass(frozen=True)
class SearchInput:
    numbers: list[str]  # distinct, upper-cased, in the order entered
    count: int  # how many distinct numbers were entered


def split_numbers(text: str) -> SearchInput:
    """The textarea's numbers: any whitespace, comma or semicolon separates them; duplicates once."""
    seen: dict[str, None] = {}
    for token in _SEPARATORS.split(text or ""):
        token = token.strip().upper()
        if token:
            seen.setdefault(token, None)
    numbers = list(seen)
    return SearchInput(numbers=numbers, count=len(numbers))


def is_valid_number(number: str) -> bool:
    return len(number) == 11 and iso6346.is_valid(number)


def local(moment: datetime | None) -> datetime | None:
    return moment.astimezone(TERMINAL_ZONE) if moment is not None else None


@dataclass(frozen=True)
class ResultRow:
    container_no: str
    kind: str  # "found", "not_found", "invalid"
    cells: dict[str, str]  # field key -> display string (found rows)
    message: str = ""  # the portal's words for not_found / invalid rows


def container_cells(state: ContainerState, labels: Labels) -> dict[str, str]:
    container = state.container
    words = labels.words
    if state.on_vessel:
        status = words["on_vessel"]
    elif state.empty_returned_at is not None:
        status = words["empty_returned"]
    elif state.gate_out_at is not None:
        status = words["delivered"]
    else:
        status = words["in_yard"]
    holds = [words[f"hold_{name}"] for name in state.holds]
    return {
        "container_no": container.container_number,
        "carrier": container.line,
        "container_spec": container.iso_size_type,
        "vessel": container.vessel.vessel,
        "voyage": container.vessel.voyage,
        "mbl_no": container.bill_of_lading,
        "status": status,
        "available": words["yes"] if state.available else words["no"],
        "customs_release": words[f"customs_{state.customs}"],
        "freight_release": words[f"release_{state.freight}"],
        "usda_hold": words[f"release_{state.usda}"] if state.usda else words["not_applicable"],
        "tmf": words[f"release_{state.tmf}"],
        "holds": ", ".join(holds) if holds else words["no_holds"],
        "last_free_day": labels.day(state.last_free_day),
        "demurrage": labels.money(state.demurrage_usd) if state.discharged_at else "",
        "yard_location": state.yard_location or "",
        "appointment_date": labels.timestamp(local(state.appointment_at)),
        "discharge_date": labels.timestamp(local(state.discharged_at)),
        "gate_out_date": labels.timestamp(local(state.gate_out_at)),
    }


def detail_cells(state: ContainerState, labels: Labels) -> dict[str, str]:
    container = state.container
    cells = container_cells(state, labels)
    cells["container_spec"] = f"{container.iso_size_type} ({container.size_type_text})"
    cells["weight"] = f"{container.weight_kg:,} KG"
    cells["empty_return_date"] = labels.timestamp(local(state.empty_returned_at))
    cells["terminal"] = labels.texts["terminal"] if labels.language == "zh" else TERMINAL_NAME
    return cells


def result_rows(world: World, numbers: list[str], moment: datetime, labels: Labels) -> list[ResultRow]:
    rows = []
    for number in numbers:
        if not is_valid_number(number):
            rows.append(ResultRow(number, "invalid", {}, labels.words["invalid"]))
            continue
        container = world.find(number)
        if container is None:
            rows.append(ResultRow(number, "not_found", {}, labels.words["not_found"]))
            continue
        rows.append(ResultRow(number, "found", container_cells(world.state(container, moment), labels)))
    return rows


def vessel_cells(call: VesselCall, moment: datetime, labels: Labels) -> dict[str, str]:
    status = call.status_at(moment)
    return {
        "vessel": call.vessel,
        "voyage": call.voyage,
        "carrier": call.line,
        "berth": call.berth,
        "eta": labels.timestamp(local(call.estimate_at(moment))),
        "ata": labels.timestamp(local(call.ata)) if moment >= call.ata else "",
        "etd": labels.timestamp(local(call.etd)),
        "vessel_status": labels.words[f"vessel_{status}"],
    }
