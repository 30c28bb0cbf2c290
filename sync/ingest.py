"""The ingest pipeline: observations in, store updated — one batch, one transaction, idempotent.

    normalize → store new observations (dedup by content hash) → record problems
              → version events → merge container status → vessel calls, shipments, order links

A batch that repeats what the store already has (a replay after a crash, a re-sent mail, the same
page scraped again) adds nothing. Observations of one batch may arrive in any order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from quaysync.collector import collector_paused
from quaysync.model import Observation
from store.bulk import insert_many, insert_with_ids, rows_where_in, update_by_key
from store.tables import (
    ObservationRow,
    OrderLinkRow,
    ProblemRow,
    ShipmentRow,
)
from sync.events import event_candidates, merge_events
from sync.normalize import Normalized, normalize
from sync.precedence import Precedence
from sync.status import (
    PROVENANCE_HASH_LENGTH,
    StatusStatement,
    load_statuses,
    merge_statuses,
    plan_restatements,
)
from sync.vessels import merge_vessel_calls

_OBSERVATIONS = ObservationRow.__table__


# Runs after a batch is merged, in the same transaction: webhooks fan-out, rules, ...
IngestHook = Callable[[Session, "IngestReport", datetime], None]


@dataclass
class IngestSettings:
    """How to merge: source precedence, the zone for sources that did not name one, and hooks."""

    precedence: Precedence = field(default_factory=Precedence)
    default_zone: str = "UTC"
    hooks: Sequence[IngestHook] = ()

    @classmethod
    def from_patterns(cls, patterns: Iterable[str], default_zone: str = "UTC") -> IngestSettings:
        return cls(Precedence(tuple(patterns)), default_zone)


@dataclass
class Problem:
    source: str
    source_ref: str
    kind: str
    reason: str
    subject: str | None = None


@dataclass
class IngestReport:
    received: int = 0
    added_observations: int = 0
    repeated_observations: int = 0
    added_events: int = 0
    updated_events: int = 0
    changed_containers: set[str] = field(default_factory=set)
    new_event_ids: list[int] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def added(self) -> int:
        """Rows this batch added to the store (observations, events, problems)."""
        return self.added_observations + self.added_events + len(self.problems)

    def as_counts(self) -> dict[str, int]:
        return {
            "observations": self.received,
            "added_observations": self.added_observations,
            "repeated_observations": self.repeated_observations,
            "added_events": self.added_events,
            "containers_changed": len(self.changed_containers),
            "problems": len(self.problems),
        }


@dataclass(slots=True)
class _Entry:
    observation: Observation
    content_hash: str
    normalized: Normalized | None = None
    observation_id: int | None = None
    subject_key: str | None = None
    repeated: bool = False


def _as_dict(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields as a dict for a JSON column, copied only when they are not one already."""
    return fields if type(fields) is dict else dict(fields)


def _store_observations(
    session: Session,
    entries: list[_Entry],
    run_id: int | None,
    now: datetime,
    settings: IngestSettings,
    report: IngestReport,
) -> list[_Entry]:
    """Insert what is new; return the entries whose statements may still change something."""
    groups: dict[str, list[_Entry]] = {}
    for entry in entries:
        groups.setdefault(entry.content_hash, []).append(entry)
    columns = (
        _OBSERVATIONS.c.id,
        _OBSERVATIONS.c.content_hash,
        _OBSERVATIONS.c.observed_at,
        _OBSERVATIONS.c.last_observed_at,
        _OBSERVATIONS.c.subject_key,
    )
    known = {
        row["content_hash"]: row
        for row in rows_where_in(session, columns, _OBSERVATIONS.c.content_hash, list(groups))
    }
    to_merge: list[_Entry] = []
    new_rows: list[dict[str, Any]] = []
    widened: list[dict[str, Any]] = []
    for content_hash, group in groups.items():
        if len(group) == 1:  # a worker's batch (one scrape, one mail) says each content once
            first = last = group[0].observation.observed_at
        else:
            moments = [entry.observation.observed_at for entry in group]
            first, last = min(moments), max(moments)
        stored = known.get(content_hash)
        if stored is None:
            head = group[0]
            head.normalized = normalize(head.observation, settings.default_zone)
            for entry in group:
                entry.normalized, entry.subject_key = head.normalized, head.normalized.subject_key
            observation = head.observation
            new_rows.append(
                {
                    "content_hash": content_hash,
                    "source": observation.source,
                    "source_ref": observation.source_ref,
                    "subject": observation.subject,
                    "subject_key": head.subject_key,
                    "observed_at": first,
                    "last_observed_at": last,
                    "parser": observation.parser,
                    "time_zone": observation.time_zone,
                    "fields": _as_dict(observation.fields),
                    "run_id": run_id,
                    "created_at": now,
                }
            )
            to_merge.extend(group)
            continue
        report.repeated_observations += len(group)
        # Seen before: only a statement outside the moments already merged can change anything.
        outside = [
            entry
            for entry in group
            if not stored["observed_at"] <= entry.observation.observed_at <= stored["last_observed_at"]
        ]
        for entry in outside:
            entry.observation_id, entry.subject_key, entry.repeated = (
                stored["id"],
                stored["subject_key"],
                True,
            )
        if outside:
            to_merge.extend(outside)
            widened.append(
                {
                    "id": stored["id"],
                    "observed_at": min(first, stored["observed_at"]),
                    "last_observed_at": max(last, stored["last_observed_at"]),
                }
            )
    if new_rows:
        ids = insert_with_ids(session, _OBSERVATIONS, new_rows, ("content_hash",))
        for row, observation_id in zip(new_rows, ids, strict=True):
            for entry in groups[row["content_hash"]]:
                entry.observation_id = observation_id
        report.added_observations += len(new_rows)
        _record_problems(session, [groups[row["content_hash"]][0] for row in new_rows], run_id, now, report)
    update_by_key(session, _OBSERVATIONS, "id", widened)
    return [entry for entry in to_merge if entry.subject_key is not None]


def _record_problems(
    session: Session, entries: list[_Entry], run_id: int | None, now: datetime, report: IngestReport
) -> None:
    rows = []
    for entry in entries:
        assert entry.normalized is not None
        observation = entry.observation
        for kind, reason in entry.normalized.problems:
            subject = entry.subject_key or observation.fields.get("container_no")
            report.problems.append(Problem(observation.source, observation.source_ref, kind, reason, subject))
            rows.append(
                {
                    "source": observation.source,
                    "source_ref": observation.source_ref,
                    "kind": kind,
                    "reason": reason,
                    "subject_key": subject,
                    "raw": _as_dict(observation.fields),
                    "run_id": run_id,
                    "created_at": now,
                }
            )
    if rows:
        insert_many(session, ProblemRow.__table__, rows)


def _statement(entry: _Entry, said_until: datetime | None = None) -> StatusStatement:
    """The status statement of a container observation (fields only when normalized);
    `said_until`: the same source said the same again until then, nothing else in between."""
    observation = entry.observation
    normalized = entry.normalized
    fields: dict[str, Any] = {}
    hints: list[tuple[str, datetime]] = []
    if normalized is not None:
        fields = {**normalized.status, "time_zone": normalized.time_zone}
        if normalized.lifecycle_hint:
            hints.append((normalized.lifecycle_hint, observation.observed_at))
    assert entry.subject_key is not None
    return StatusStatement(
        entry.subject_key,
        observation.source,
        observation.observed_at,
        entry.content_hash[:PROVENANCE_HASH_LENGTH],
        fields,
        hints,
        said_until,
    )


# Fields that can add to a shipment or a link beyond what naming its B/L already did.
_LINK_FIELDS = ("order_ref", "customer", "port_of_loading", "port_of_discharge")


def _link_shipments_and_orders(
    session: Session, entries: list[_Entry], now: datetime, known_bills: dict[str, str | None]
) -> None:
    """Shipments and order links named by new content. `known_bills`: each container's B/L before
    this batch; a snapshot naming the B/L its container already had, and nothing more, adds nothing."""
    shipments: dict[str, dict[str, Any]] = {}
    links: dict[tuple[str, str, str], dict[str, Any]] = {}
    for entry in entries:
        normalized = entry.normalized
        if normalized is None or normalized.subject_key is None:
            continue
        observation = entry.observation
        fields = observation.fields
        bill = (
            normalized.status.get("bill_of_lading")
            if observation.subject == "container"
            else (normalized.subject_key if observation.subject == "bill_of_lading" else None)
        )
        container = normalized.subject_key if observation.subject == "container" else ""
        already_named = container in known_bills and known_bills[container] == bill
        if already_named and not any(fields.get(name) for name in _LINK_FIELDS):
            continue
        if bill:
            shipment = shipments.setdefault(bill, {"bill_of_lading": bill})
            for name, column in (
                ("carrier", "carrier"),
                ("vessel", "vessel_name"),
                ("voyage", "voyage"),
                ("customer", "customer"),
                ("port_of_loading", "port_of_loading"),
                ("port_of_discharge", "port_of_discharge"),
            ):
                if fields.get(name):
                    shipment.setdefault(column, str(fields[name]).strip())
        order_ref = (fields.get("order_ref") or "").strip()
        if order_ref or (bill and container):
            links.setdefault(
                (order_ref, bill or "", container),
                {"customer": fields.get("customer"), "source": observation.source},
            )
    if shipments:
        table = ShipmentRow.__table__
        known = {
            row["bill_of_lading"]: row
            for row in rows_where_in(session, list(table.c), table.c.bill_of_lading, list(shipments))
        }
        new_shipments = []
        filled: dict[frozenset[str], list[dict[str, Any]]] = {}
        for bill, values in shipments.items():
            row = known.get(bill)
            if row is None:
                new_shipments.append({column.name: None for column in table.c} | values | {"updated_at": now})
                continue
            missing = {column: value for column, value in values.items() if row[column] is None}
            if missing:
                filled.setdefault(frozenset(missing), []).append(
                    {"bill_of_lading": bill, **missing, "updated_at": now}
                )
        if new_shipments:
            insert_many(session, table, new_shipments)
        for rows in filled.values():
            update_by_key(session, table, "bill_of_lading", rows)
    if links:
        rows = [
            {
                "order_ref": key[0],
                "bill_of_lading": key[1],
                "container_number": key[2],
                "customer": value["customer"],
                "source": value["source"],
                "created_at": now,
            }
            for key, value in links.items()
        ]
        insert_many(session, OrderLinkRow.__table__, rows, skip_existing=True)
    session.flush()


def _spans(entries: list[_Entry]) -> list[tuple[_Entry, datetime]]:
    """Per content, its earliest entry and when it was last said. Statements of one content
    state the same facts, so to events they differ only in when they were first and last said."""
    spans: dict[str, list[Any]] = {}
    for entry in entries:
        at = entry.observation.observed_at
        span = spans.get(entry.content_hash)
        if span is None:
            spans[entry.content_hash] = [entry, at]
            continue
        if at < span[0].observation.observed_at:
            span[0] = entry
        if at > span[1]:
            span[1] = at
    return [(entry, last_said) for entry, last_said in spans.values()]


def _strictly_latest(said: list[_Entry], index: int, latest: list[str] | None) -> bool:
    """Is said[index] later than every statement before it (in time order) and in the store?"""
    at = said[index].observation.observed_at
    return (latest is None or at.isoformat() > latest[0]) and (
        index == 0 or said[index - 1].observation.observed_at < at
    )


def _runs(entries: list[_Entry], stored: dict[str, dict[str, Any]]) -> list[tuple[_Entry, datetime | None]]:
    """Fold each run of one source repeating one snapshot of a container into its first statement.

    In a source's time-ordered statements about a container, once a snapshot is the source's
    latest — strictly later than everything before it, so every field entry of the source is
    now the snapshot's — saying it again only moves the source's freshness (sync.precedence:
    entries of the latest snapshot are last said at the freshness time). Such a run is its first
    statement, "said until" its last. Order is (moment, content hash), the tie-break of
    `advance_freshness`, so the result does not depend on arrival order. "Everything before"
    includes the store (`stored`: the status rows, whose freshness is the source's latest).
    """
    by_source: dict[tuple[str | None, str], list[_Entry]] = {}
    for entry in entries:
        by_source.setdefault((entry.subject_key, entry.observation.source), []).append(entry)
    runs: list[tuple[_Entry, datetime | None]] = []
    for (container_number, source), said in by_source.items():
        if len(said) == 1:
            runs.append((said[0], None))
            continue
        said.sort(key=lambda entry: (entry.observation.observed_at, entry.content_hash))
        row = stored.get(container_number or "")
        latest = row["freshness"].get(source) if row else None
        head, until, foldable = said[0], None, _strictly_latest(said, 0, latest)
        for index in range(1, len(said)):
            entry = said[index]
            if foldable and entry.content_hash == head.content_hash:
                until = entry.observation.observed_at
                continue
            runs.append((head, until))
            head, until, foldable = entry, None, _strictly_latest(said, index, latest)
        runs.append((head, until))
    return runs


# Batches at least this large run with the cyclic garbage collector paused (quaysync.collector).
_PAUSE_COLLECTOR_AT = 2_000


def ingest(
    session: Session,
    observations: Iterable[Observation],
    *,
    settings: IngestSettings | None = None,
    run_id: int | None = None,
    now: datetime | None = None,
) -> IngestReport:
    """Normalize and merge a batch into the store, in the caller's transaction."""
    observations = list(observations)
    with collector_paused(len(observations) >= _PAUSE_COLLECTOR_AT):
        return _ingest(session, observations, settings or IngestSettings(), run_id, now or datetime.now(UTC))


def _ingest(
    session: Session,
    observations: list[Observation],
    settings: IngestSettings,
    run_id: int | None,
    now: datetime,
) -> IngestReport:
    report = IngestReport()
    entries = [_Entry(observation, observation.content_hash()) for observation in observations]
    report.received = len(entries)
    if not entries:
        return report
    to_merge = _store_observations(session, entries, run_id, now, settings, report)

    # A source repeating its latest snapshot of a container only refreshes it (see sync.status).
    repeats = [
        _statement(entry) for entry in to_merge if entry.repeated and entry.observation.subject == "container"
    ]
    full_repeats, _refreshed = plan_restatements(session, repeats, settings.precedence)
    again = {
        (statement.container_number, statement.source, statement.observed_at) for statement in full_repeats
    }
    merging = []
    for entry in to_merge:
        said = (entry.subject_key, entry.observation.source, entry.observation.observed_at)
        if entry.repeated and entry.observation.subject == "container" and said not in again:
            continue
        if entry.normalized is None:
            entry.normalized = normalize(entry.observation, settings.default_zone)
        merging.append(entry)

    about_containers = [entry for entry in merging if entry.observation.subject == "container"]
    stored = load_statuses(session, {entry.subject_key for entry in about_containers if entry.subject_key})
    statements = [_statement(entry, until) for entry, until in _runs(about_containers, stored)]
    known_bills = {number: row["bill_of_lading"] for number, row in stored.items()}
    unseen = frozenset(
        ("container", s.container_number) for s in statements if s.container_number not in stored
    )
    spans = _spans(merging)
    candidates = [
        candidate
        for entry, last_said in spans
        for candidate in event_candidates(
            entry.normalized, entry.observation, entry.observation_id, entry.content_hash, last_said
        )
    ]
    events = merge_events(session, candidates, settings.precedence, now, settings.default_zone, unseen)
    report.added_events = len(events.added_ids)
    report.updated_events = events.updated
    report.new_event_ids = events.added_ids
    report.changed_containers = merge_statuses(
        session,
        statements,
        settings.precedence,
        now,
        events.containers_changed,
        stored,
        events.new_container_events,
    )
    calls = [
        (entry.normalized, entry.content_hash[:PROVENANCE_HASH_LENGTH])
        for entry in merging
        if entry.observation.subject == "vessel_call"
    ]
    follow_ups = merge_vessel_calls(session, calls, settings.precedence, now)
    if follow_ups:
        report.changed_containers |= merge_statuses(session, follow_ups, settings.precedence, now)
    # Only content not seen before can name a new shipment or link.
    _link_shipments_and_orders(session, [entry for entry, _ in spans if not entry.repeated], now, known_bills)
    for hook in settings.hooks:
        hook(session, report, now)
    return report
