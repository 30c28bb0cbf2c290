"""The sandbox's deterministic world: vessels, containers and how they move through a terminal.

The sandbox portal and the sandbox carrier mail both describe this one world, so what the mail
announces the portal later shows. Everything derives from a seed: the same seed gives the same
containers, bills of lading, vessels and timelines. A container's state at a moment is a pure
function of (seed, moment): successive scrapes see containers move through their lifecycle.

World time runs from `epoch`; `WorldClock` maps wall-clock time to world time with a speed factor
(the embedded default runs an hour of terminal life per real minute) or pins it for tests.
The sandbox imports nothing of quaysync's.
"""

from __future__ import annotations

import random
import threading
import time as _time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from stdnum import iso6346

TERMINAL_ZONE = ZoneInfo("America/Los_Angeles")
TERMINAL_NAME = "Sandbox Container Terminal"
TERMINAL_LOCODE = "USLGB"
DEFAULT_EPOCH = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
# World time starts this long after the epoch by default: vessels in every state from the start.
START_AFTER_EPOCH = timedelta(days=3)

LINES = (  # (line name, SCAC, owner prefixes of its boxes, B/L prefix)
    ("MAERSK", "MAEU", ("MSKU", "MRKU"), "MAEU"),
    ("COSCO", "COSU", ("CSNU", "CBHU"), "COSU"),
    ("MSC", "MSCU", ("MSCU", "MEDU"), "MEDU"),
    ("CMA CGM", "CMDU", ("CMAU", "TGHU"), "CMDU"),
    ("EVERGREEN", "EGLV", ("EGHU", "EISU"), "EGLV"),
)
SIZE_TYPES = (
    ("45G1", "40' HIGH CUBE DRY"),
    ("22G1", "20' DRY"),
    ("42G1", "40' DRY"),
    ("45R1", "40' HC REEFER"),
)
VESSEL_NAMES = (
    "MAERSK KOLKATA",
    "COSCO SHIPPING ARIES",
    "MSC PAMELA",
    "CMA CGM A. LINCOLN",
    "EVER GIVEN",
    "MAERSK ESSEN",
    "COSCO PRIDE",
    "MSC VAISHNAVI R.",
    "CMA CGM MARCO POLO",
    "EVER ACE",
)
CUSTOMERS = ("Acme Imports", "Blue Harbor Trading", "Shenzhen Gadget Co", "Northwind Retail")


@dataclass(frozen=True)
class VesselCall:
    vessel: str
    voyage: str
    line: str
    berth: str
    eta: datetime  # first announced estimate (UTC)
    ata: datetime  # when it really arrives (UTC); the estimate slips towards it
    etd: datetime

    def estimate_at(self, now: datetime) -> datetime:
        """The ETA the terminal publishes at `now`: it slips in steps until the vessel arrives."""
        if now >= self.ata:
            return self.ata
        slip = self.ata - self.eta
        announced_span = max(self.ata - now, timedelta(0))
        # Far from arrival the original estimate stands; within three days the slip shows.
        return self.eta if announced_span > timedelta(days=3) else self.eta + slip

    def status_at(self, now: datetime) -> str:
        if now < self.ata:
            return "EXPECTED"
        if now < self.etd:
            return "WORKING" if now < self.ata + timedelta(hours=30) else "BERTHED"
        return "DEPARTED"


@dataclass(frozen=True)
class Container:
    container_number: str
    iso_size_type: str
    size_type_text: str
    line: str
    scac: str
    bill_of_lading: str
    order_ref: str
    customer: str
    vessel: VesselCall
    weight_kg: int
    # The timeline, in UTC; None when it never happens in this world.
    discharged_at: datetime
    customs_released_at: datetime | None
    freight_released_at: datetime
    usda_hold_until: datetime | None
    tmf_hold_until: datetime | None
    inspection_at: datetime | None  # customs exam (查验) between discharge and release
    appointment_at: datetime | None
    gate_out_at: datetime | None
    empty_return_at: datetime | None
    free_days: int


@dataclass(frozen=True)
class ContainerState:
    """What the terminal knows about a container at one moment."""

    container: Container
    on_vessel: bool
    discharged_at: datetime | None
    yard_location: str | None
    customs: str  # "HOLD", "RELEASED", "INSPECTION"
    freight: str  # "HOLD", "RELEASED"
    usda: str | None  # "HOLD", "RELEASED", None when not applicable
    tmf: str  # "HOLD", "RELEASED"
    available: bool
    last_free_day: date | None
    demurrage_usd: int
    appointment_at: datetime | None
    gate_out_at: datetime | None
    empty_returned_at: datetime | None

    @property
    def holds(self) -> list[str]:
        named = {"CUSTOMS": self.customs, "FREIGHT": self.freight, "USDA": self.usda or "", "TMF": self.tmf}
        return [name for name, state in named.items() if state in ("HOLD", "INSPECTION")]


class WorldClock:
    """World time: pinned (tests) or running from `epoch` at `speed` world seconds per real second."""

    def __init__(self, epoch: datetime = DEFAULT_EPOCH, speed: float = 60.0, pinned: datetime | None = None):
        self._lock = threading.Lock()
        self.epoch = epoch
        self.speed = speed
        self._started = _time.monotonic()
        self._pinned = pinned

    def now(self) -> datetime:
        with self._lock:
            if self._pinned is not None:
                return self._pinned
            return self.epoch + timedelta(seconds=(_time.monotonic() - self._started) * self.speed)

    @property
    def pinned(self) -> bool:
        with self._lock:
            return self._pinned is not None

    def pin(self, moment: datetime) -> None:
        with self._lock:
            self._pinned = moment

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            base = self._pinned if self._pinned is not None else self.now()
            self._pinned = base + delta
            return self._pinned


def _container_number(rng: random.Random, owner: str, used: set[str]) -> str:
    while True:
        body = f"{owner}{rng.randrange(0, 1_000_000):06d}"
        number = body + iso6346.calc_check_digit(body)
        if number not in used:
            used.add(number)
            return number


class World:
    """Every vessel call and container of one seed."""

    def __init__(self, seed: int = 7, containers: int = 120, epoch: datetime = DEFAULT_EPOCH) -> None:
        self.seed = seed
        self.epoch = epoch
        rng = random.Random(seed)
        self.vessel_calls: list[VesselCall] = []
        vessel_count = max(2, min(len(VESSEL_NAMES), containers // 15 + 1))
        for index in range(vessel_count):
            line_name, _scac, _owners, _bl = LINES[index % len(LINES)]
            eta = epoch + timedelta(hours=6 + index * 14 + rng.randrange(0, 6))
            slip = timedelta(hours=rng.choice((0, 0, 0, 6, 20, 60)))  # some vessels run late
            self.vessel_calls.append(
                VesselCall(
                    vessel=VESSEL_NAMES[index],
                    voyage=f"{rng.randrange(100, 999)}{'EWNS'[index % 4]}",
                    line=line_name,
                    berth=f"B{rng.randrange(1, 12):02d}",
                    eta=eta,
                    ata=eta + slip,
                    etd=eta + slip + timedelta(hours=rng.randrange(30, 60)),
                )
            )
        self.containers: list[Container] = []
        used: set[str] = set()
        for index in range(containers):
            call = self.vessel_calls[index % vessel_count]
            line_name, scac, owners, bl_prefix = next(line for line in LINES if line[0] == call.line)
            iso_code, type_text = SIZE_TYPES[rng.randrange(len(SIZE_TYPES))]
            discharged = call.ata + timedelta(hours=2 + rng.randrange(0, 28), minutes=rng.randrange(60))
            inspection = discharged + timedelta(hours=rng.randrange(4, 20)) if rng.random() < 0.12 else None
            customs = discharged + timedelta(hours=rng.randrange(1, 48)) if rng.random() < 0.92 else None
            if inspection and customs and customs <= inspection:
                customs = inspection + timedelta(hours=rng.randrange(6, 30))
            appointment = None
            gate_out = None
            empty_return = None
            if customs and rng.random() < 0.8:
                appointment = max(customs, discharged) + timedelta(hours=rng.randrange(6, 72))
                appointment = appointment.replace(minute=0, second=0)
                if rng.random() < 0.85:
                    gate_out = appointment + timedelta(minutes=rng.randrange(5, 90))
                    if rng.random() < 0.7:
                        empty_return = gate_out + timedelta(days=rng.randrange(2, 9), hours=rng.randrange(24))
            self.containers.append(
                Container(
                    container_number=_container_number(rng, owners[index % 2], used),
                    iso_size_type=iso_code,
                    size_type_text=type_text,
                    line=line_name,
                    scac=scac,
                    bill_of_lading=f"{bl_prefix}{rng.randrange(10**9, 10**10)}",
                    order_ref=f"PO-{2026_0000 + index * 7 % 9973:08d}",
                    customer=CUSTOMERS[index % len(CUSTOMERS)],
                    vessel=call,
                    weight_kg=rng.randrange(4_000, 28_000),
                    discharged_at=discharged,
                    customs_released_at=customs,
                    freight_released_at=discharged + timedelta(hours=rng.randrange(0, 36)),
                    usda_hold_until=(discharged + timedelta(hours=rng.randrange(12, 60)))
                    if iso_code == "45R1"
                    else None,
                    tmf_hold_until=discharged + timedelta(hours=rng.randrange(0, 10)),
                    inspection_at=inspection,
                    appointment_at=appointment,
                    gate_out_at=gate_out,
                    empty_return_at=empty_return,
                    free_days=rng.choice((4, 5, 5, 7)),
                )
            )
        self._by_number = {container.container_number: container for container in self.containers}

    def find(self, container_number: str) -> Container | None:
        return self._by_number.get(container_number.strip().upper())

    def state(self, container: Container, now: datetime) -> ContainerState:
        discharged = container.discharged_at <= now
        gated_out = container.gate_out_at is not None and container.gate_out_at <= now
        if not discharged:
            customs = "HOLD"
        elif container.customs_released_at and container.customs_released_at <= now:
            customs = "RELEASED"
        elif container.inspection_at and container.inspection_at <= now:
            customs = "INSPECTION"
        else:
            customs = "HOLD"
        freight = "RELEASED" if container.freight_released_at <= now else "HOLD"
        usda = None
        if container.usda_hold_until is not None:
            usda = "RELEASED" if container.usda_hold_until <= now else "HOLD"
        tmf = (
            "RELEASED" if container.tmf_hold_until is not None and container.tmf_hold_until <= now else "HOLD"
        )
        last_free_day = None
        demurrage = 0
        if discharged:
            local_discharge = container.discharged_at.astimezone(TERMINAL_ZONE).date()
            last_free_day = local_discharge + timedelta(days=container.free_days)
            until = (container.gate_out_at if gated_out else now).astimezone(TERMINAL_ZONE).date()
            demurrage = max(0, (until - last_free_day).days) * 150
        released = customs == "RELEASED" and freight == "RELEASED" and tmf == "RELEASED" and usda != "HOLD"
        rng = random.Random(f"{self.seed}:{container.container_number}")
        yard = None
        if discharged and not gated_out:
            block, bay = rng.choice("ABCDEFGH"), rng.randrange(1, 40)
            yard = f"{block}{bay:02d}-{rng.randrange(1, 9)}{rng.randrange(1, 6)}"
        appointment = container.appointment_at
        if appointment is not None and (appointment - timedelta(hours=36)) > now:
            appointment = None  # booked a day and a half ahead, not earlier
        return ContainerState(
            container=container,
            on_vessel=not discharged,
            discharged_at=container.discharged_at if discharged else None,
            yard_location=yard,
            customs=customs,
            freight=freight,
            usda=usda,
            tmf=tmf,
            available=discharged and not gated_out and released,
            last_free_day=last_free_day,
            demurrage_usd=demurrage,
            appointment_at=appointment,
            gate_out_at=container.gate_out_at if gated_out else None,
            empty_returned_at=container.empty_return_at
            if container.empty_return_at and container.empty_return_at <= now
            else None,
        )
