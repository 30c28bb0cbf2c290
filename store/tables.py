"""The store's tables (SQLModel). One Alembic migration history creates them on SQLite and PostgreSQL.

observation       every source statement, raw fields verbatim, deduplicated by content hash
event             normalized DCSA-aligned facts; a natural key, and versions (superseded_by)
container_status  the derived current state, one row per container
vessel_call       a vessel's call at a terminal (ETA/ATA/ETD, berth, status)
shipment          bills of lading
order_link        order ↔ B/L ↔ container
problem           what could not be taken in (invalid numbers, bad rows, layout changes) and why
run               every scrape, mail poll, import, export and notification pass
source_state      per-source state: watermarks, pause, blocked accounts
alert             what a rule raised, and manual-review items for a person
outbox            notifications and webhooks waiting to be delivered, with their delivery state
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Index, String, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from store.types import JSONDocument, UTCDateTime


def _utc(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


def _json(default: Any = dict) -> Any:
    return Field(default_factory=default, sa_type=JSONDocument, nullable=False)


class ObservationRow(SQLModel, table=True):
    __tablename__ = "observation"

    id: int | None = Field(default=None, primary_key=True)
    content_hash: str = Field(max_length=64, unique=True)
    source: str = Field(max_length=120, index=True)
    source_ref: str = Field(sa_type=Text)
    subject: str = Field(max_length=20)
    # Normalized subject: container number, B/L, or "VESSEL/VOYAGE"; None when the number is invalid.
    subject_key: str | None = Field(default=None, max_length=120, index=True)
    observed_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    last_observed_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    parser: str = Field(default="", max_length=80)
    time_zone: str | None = Field(default=None, max_length=64)
    fields: dict[str, Any] = _json()
    run_id: int | None = Field(default=None, index=True)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class EventRow(SQLModel, table=True):
    __tablename__ = "event"
    __table_args__ = (
        UniqueConstraint("natural_key", "version_hash", name="uq_event_version"),
        Index("ix_event_container_at", "container_number", "event_at"),
        # Only the superseded versions: nearly every row is current (NULL), and a full index made
        # SQLite's planner read "superseded_by IS NULL" as selective and scan every current event.
        Index(
            "ix_event_superseded",
            "superseded_by",
            sqlite_where=text("superseded_by IS NOT NULL"),
            postgresql_where=text("superseded_by IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=36, unique=True)  # UUID, stable across replays (DCSA eventID)
    natural_key: str = Field(max_length=32)  # looked up through uq_event_version
    version_hash: str = Field(max_length=32)
    event_type: str = Field(max_length=10)  # EQUIPMENT / TRANSPORT / SHIPMENT
    # DISC, GTOT, ARRI, AVPU, CUSR, HOLD, ... Not indexed: a few codes over every event (0007).
    event_code: str = Field(max_length=4)
    classifier: str = Field(max_length=3)  # ACT / EST / PLN
    event_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    time_zone: str | None = Field(default=None, max_length=64)  # the location's IANA zone
    timed: bool = True  # False: the source gave no time; event_at is when it was first seen
    container_number: str | None = Field(default=None, max_length=11)
    bill_of_lading: str | None = Field(default=None, max_length=40, index=True)
    location_code: str | None = Field(default=None, max_length=5)  # UN/LOCODE
    facility: str | None = Field(default=None, max_length=120)
    vessel_name: str | None = Field(default=None, max_length=120)
    voyage: str | None = Field(default=None, max_length=40)
    empty_indicator: str | None = Field(default=None, max_length=5)  # EMPTY / LADEN
    details: dict[str, Any] = _json()
    source: str = Field(max_length=120)
    observation_id: int | None = Field(default=None, index=True)
    # when this version was first stated, and by the strongest source that stated it
    observed_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    superseded_by: int | None = Field(default=None)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)


class ContainerStatusRow(SQLModel, table=True):
    __tablename__ = "container_status"

    container_number: str = Field(primary_key=True, max_length=11)
    lifecycle: str = Field(default="UNKNOWN", max_length=20, index=True)
    lifecycle_rank: int = 0
    lifecycle_at: datetime | None = _utc()
    available: bool | None = None
    holds: dict[str, Any] = _json()  # facet → "hold" / "released" / "inspection"
    last_free_day: date | None = None
    line_last_free_day: date | None = None
    fees: dict[str, Any] = _json()  # {"demurrage": "245.00", "total": ..., "currency": "USD"}
    yard_location: str | None = Field(default=None, max_length=120)
    appointment_at: datetime | None = _utc()
    bill_of_lading: str | None = Field(default=None, max_length=40, index=True)
    carrier: str | None = Field(default=None, max_length=80)
    size_type: str | None = Field(default=None, max_length=80)
    vessel_name: str | None = Field(default=None, max_length=120)
    voyage: str | None = Field(default=None, max_length=40)
    vessel_eta: datetime | None = _utc()
    vessel_ata: datetime | None = _utc()
    terminal: str | None = Field(default=None, max_length=120, index=True)
    time_zone: str | None = Field(default=None, max_length=64)
    traffic_light: str | None = Field(default=None, max_length=5, index=True)
    light_rule: str | None = Field(default=None, max_length=120)
    light_reason: str | None = Field(default=None, sa_type=Text)
    # source → [ISO UTC, content hash]: each source's latest statement (its last successful check)
    freshness: dict[str, Any] = _json()
    # field → source → [value, ISO UTC, content hash]: what each source said last (sync.precedence)
    field_sources: dict[str, Any] = _json()
    # field → source → value, where sources currently disagree
    disagreements: dict[str, Any] = _json()
    # source → the source's own words when it says the container is unknown there
    not_found: dict[str, Any] = _json()
    tracking: str = Field(default="active", max_length=20, index=True)  # active / final / stale
    first_seen_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    last_observed_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)


class VesselCallRow(SQLModel, table=True):
    __tablename__ = "vessel_call"
    __table_args__ = (UniqueConstraint("vessel_name", "voyage", "facility", name="uq_vessel_call"),)

    id: int | None = Field(default=None, primary_key=True)
    vessel_name: str = Field(max_length=120)
    voyage: str = Field(default="", max_length=40)
    facility: str = Field(default="", max_length=120)
    location_code: str | None = Field(default=None, max_length=5)
    eta: datetime | None = _utc()
    ata: datetime | None = _utc()
    etd: datetime | None = _utc()
    atd: datetime | None = _utc()
    berth: str | None = Field(default=None, max_length=40)
    status: str | None = Field(default=None, max_length=40)
    time_zone: str | None = Field(default=None, max_length=64)
    field_sources: dict[str, Any] = _json()
    freshness: dict[str, Any] = _json()
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class ShipmentRow(SQLModel, table=True):
    __tablename__ = "shipment"

    bill_of_lading: str = Field(primary_key=True, max_length=40)
    carrier: str | None = Field(default=None, max_length=80)
    customer: str | None = Field(default=None, max_length=120, index=True)
    vessel_name: str | None = Field(default=None, max_length=120)
    voyage: str | None = Field(default=None, max_length=40)
    port_of_loading: str | None = Field(default=None, max_length=80)
    port_of_discharge: str | None = Field(default=None, max_length=80)
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class OrderLinkRow(SQLModel, table=True):
    """One order ↔ B/L ↔ container link. Missing parts are '' (not NULL) so the triple is unique."""

    __tablename__ = "order_link"
    __table_args__ = (
        UniqueConstraint("order_ref", "bill_of_lading", "container_number", name="uq_order_link"),
    )

    id: int | None = Field(default=None, primary_key=True)
    order_ref: str = Field(default="", max_length=80, index=True)
    bill_of_lading: str = Field(default="", max_length=40, index=True)
    container_number: str = Field(default="", max_length=11, index=True)
    customer: str | None = Field(default=None, max_length=120, index=True)
    source: str = Field(max_length=120)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class ProblemRow(SQLModel, table=True):
    __tablename__ = "problem"

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=120, index=True)
    source_ref: str = Field(sa_type=Text)
    kind: str = Field(max_length=20)  # the error taxonomy word: business, bad_input, layout_changed, ...
    reason: str = Field(sa_type=Text)
    subject_key: str | None = Field(default=None, max_length=120, index=True)
    raw: dict[str, Any] = _json()
    run_id: int | None = Field(default=None, index=True)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)


class RunRow(SQLModel, table=True):
    __tablename__ = "run"

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=120, index=True)
    kind: str = Field(max_length=20)  # scrape / mail / import / export / notify / rules
    trigger: str = Field(default="manual", max_length=20)  # schedule / manual / startup
    started_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
    ended_at: datetime | None = _utc()
    # running / ok / partial / failed / blocked / layout_changed / interrupted
    outcome: str = Field(default="running", max_length=20, index=True)
    counts: dict[str, Any] = _json()
    errors: list[dict[str, Any]] = _json(list)
    evidence: list[str] = _json(list)


class SourceStateRow(SQLModel, table=True):
    """Per-source state under a key: mail watermarks per folder, pause, blocked accounts, ..."""

    __tablename__ = "source_state"

    source: str = Field(primary_key=True, max_length=120)
    key: str = Field(primary_key=True, max_length=200)
    value: dict[str, Any] = _json()
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class AlertRow(SQLModel, table=True):
    __tablename__ = "alert"
    __table_args__ = (UniqueConstraint("dedupe_key", name="uq_alert_dedupe"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(default="rule", max_length=20)  # rule / review / source
    rule: str = Field(max_length=120, index=True)
    subject: str = Field(max_length=120, index=True)  # container number, B/L, or source name
    # rule + subject + condition instance: the same situation never raises twice
    dedupe_key: str = Field(max_length=300)
    light: str | None = Field(default=None, max_length=5)
    reason: str = Field(sa_type=Text)
    state: str = Field(default="open", max_length=20, index=True)  # open / resolved
    context: dict[str, Any] = _json()
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
    resolved_at: datetime | None = _utc()


class OutboxRow(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("dedupe_key", name="uq_outbox_dedupe"),
        Index("ix_outbox_due", "state", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=120, index=True)  # a channel name, or "subscription:<id>"
    kind: str = Field(max_length=20)  # notification / customer / webhook / event
    destination: str = Field(sa_type=Text)  # address or URL
    payload: dict[str, Any] = _json()
    dedupe_key: str = Field(sa_type=String(300))
    state: str = Field(default="pending", max_length=20)  # pending / sent / dead
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    last_error: str | None = Field(default=None, sa_type=Text)
    alert_id: int | None = Field(default=None, index=True)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    sent_at: datetime | None = _utc()


ALL_TABLES = (
    ObservationRow,
    EventRow,
    ContainerStatusRow,
    VesselCallRow,
    ShipmentRow,
    OrderLinkRow,
    ProblemRow,
    RunRow,
    SourceStateRow,
    AlertRow,
    OutboxRow,
)
