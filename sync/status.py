"""The derived current state of each container, merged from normalized observations.

Lifecycle only moves forward: the furthest milestone the container's current actual events prove
(or a status word implies). Every other column follows `sync.precedence`. Rows are written only
where something changed, and only the changed columns; replaying a batch writes nothing.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from store.bulk import insert_many, rows_where_in, update_by_key
from store.tables import ContainerStatusRow, EventRow
from sync.events import CurrentEvent
from sync.precedence import TIED, VALUE, Precedence, advance_freshness, effective, record

_STATUS = ContainerStatusRow.__table__
_EVENTS = EventRow.__table__

LIFECYCLE = ("UNKNOWN", "IN_TRANSIT", "ARRIVED", "DISCHARGED", "GATED_OUT", "EMPTY_RETURNED")
RANK = {state: rank for rank, state in enumerate(LIFECYCLE)}
FINAL_STATES = frozenset({"EMPTY_RETURNED"})
HOLD_FACETS = ("customs", "freight", "line", "usda", "tmf", "other")
PLAIN_FIELDS = frozenset(
    {
        "yard_location",
        "bill_of_lading",
        "carrier",
        "size_type",
        "vessel_name",
        "voyage",
        "terminal",
        "time_zone",
    }
)
DAY_FIELDS = frozenset({"last_free_day", "line_last_free_day"})
MOMENT_FIELDS = frozenset({"appointment_at", "vessel_eta", "vessel_ata"})
# Columns that only record provenance; a change to them alone is not a status change.
BOOKKEEPING = frozenset({"field_sources", "freshness", "first_seen_at", "last_observed_at"})


def lifecycle_of(event_code: str, classifier: str, empty_indicator: str | None) -> str | None:
    """The lifecycle state an actual event proves, if any."""
    if classifier != "ACT":
        return None
    if event_code == "LOAD":
        return "IN_TRANSIT"
    if event_code == "ARRI":
        return "ARRIVED"
    if event_code in ("DISC", "AVPU", "CUSI"):
        return "DISCHARGED"
    if event_code == "GTOT":
        return "GATED_OUT"
    if event_code == "GTIN" and empty_indicator != "LADEN":
        return "EMPTY_RETURNED"
    return None


# Provenance keeps a prefix of the observation's content hash: it only tells one source's
# snapshots of one container apart, and it is stored once per field.
PROVENANCE_HASH_LENGTH = 12


@dataclass(slots=True)
class StatusStatement:
    """What one observation says about one container's status."""

    container_number: str
    source: str
    observed_at: datetime
    content_hash: str  # the observation's, shortened to PROVENANCE_HASH_LENGTH
    fields: dict[str, Any]
    # lifecycle states the source's words imply without an event ("On Vessel"), with when said
    hints: list[tuple[str, datetime]] = field(default_factory=list)
    # the source said the same again until then, and nothing else in between (sync.ingest._runs)
    said_until: datetime | None = None


def _new_row(container_number: str, observed_at: datetime) -> dict[str, Any]:
    return {
        "container_number": container_number,
        "lifecycle": "UNKNOWN",
        "lifecycle_rank": 0,
        "lifecycle_at": None,
        "available": None,
        "holds": {},
        "last_free_day": None,
        "line_last_free_day": None,
        "fees": {},
        "yard_location": None,
        "appointment_at": None,
        "bill_of_lading": None,
        "carrier": None,
        "size_type": None,
        "vessel_name": None,
        "voyage": None,
        "vessel_eta": None,
        "vessel_ata": None,
        "terminal": None,
        "time_zone": None,
        "traffic_light": None,
        "light_rule": None,
        "light_reason": None,
        "freshness": {},
        "field_sources": {},
        "disagreements": {},
        "not_found": {},
        "tracking": "active",
        "first_seen_at": observed_at,
        "last_observed_at": observed_at,
        "updated_at": observed_at,
    }


def _set(row: dict[str, Any], column: str, value: Any, changed: set[str]) -> None:
    if row[column] != value:
        row[column] = value
        changed.add(column)


def _apply_effective(row: dict[str, Any], names: set[str], precedence: Precedence, changed: set[str]) -> None:
    """Recompute the columns fed by the fields in `names`."""
    sources, freshness = row["field_sources"], row["freshness"]
    winners: dict[str, Any] = {}

    def winner(name: str) -> Any:
        if name not in winners:
            winners[name] = effective(sources, freshness, name, precedence)[0]
        return winners[name]

    disagreements = dict(row["disagreements"])
    for name in names:
        value, disagreement = effective(sources, freshness, name, precedence)
        winners[name] = value
        if disagreement and name != "not_found":  # each source's answer is kept in `not_found` itself
            disagreements[name] = disagreement
        else:
            disagreements.pop(name, None)
        if name in PLAIN_FIELDS:
            _set(row, name, value, changed)
        elif name in DAY_FIELDS:
            _set(row, name, date.fromisoformat(value) if value else None, changed)
        elif name in MOMENT_FIELDS:
            _set(row, name, datetime.fromisoformat(value) if value else None, changed)
    _set(row, "disagreements", disagreements, changed)
    if any(name.startswith("hold_") for name in names):
        holds = {facet: state for facet in HOLD_FACETS if (state := winner(f"hold_{facet}")) is not None}
        _set(row, "holds", holds, changed)
    if names & {"demurrage", "fees"}:
        fees = {name: amount for name in ("demurrage", "fees") if (amount := winner(name)) is not None}
        _set(row, "fees", fees, changed)
    if "not_found" in names:
        answers = sorted(sources["not_found"].items())
        _set(row, "not_found", {source: entry[0] for source, entry in answers if entry[0]}, changed)
    if "available" in names or "lifecycle" in changed:
        gone = row["lifecycle_rank"] >= RANK["GATED_OUT"]
        _set(row, "available", False if gone else winner("available"), changed)
    if row["lifecycle"] in FINAL_STATES:
        _set(row, "tracking", "final", changed)


def _advance(row: dict[str, Any], rank: int, moment: datetime, changed: set[str]) -> None:
    """Move the lifecycle forward (never back); at equal rank keep the earliest moment."""
    if rank > row["lifecycle_rank"] or (
        rank == row["lifecycle_rank"]
        and rank > 0
        and (row["lifecycle_at"] is None or moment < row["lifecycle_at"])
    ):
        row["lifecycle"], row["lifecycle_rank"], row["lifecycle_at"] = LIFECYCLE[rank], rank, moment
        changed.update(("lifecycle", "lifecycle_rank", "lifecycle_at"))


def _fold(
    row: dict[str, Any],
    statement: StatusStatement,
    precedence: Precedence,
    touched: set[str],
    changed: set[str],
) -> None:
    """Fold one statement into a row, noting the fields to recompute and the columns changed."""
    sources = row["field_sources"]
    at = statement.observed_at.isoformat()
    _freshen(row, statement, at, precedence, touched, changed)
    for name, value in statement.fields.items():
        change = record(sources, row["freshness"], name, statement.source, value, at, statement.content_hash)
        if change:
            changed.add("field_sources")
            if change == VALUE or len(sources[name]) > 1:
                touched.add(name)
    last = statement.said_until or statement.observed_at
    if statement.said_until is not None:  # saying the same again only moves the freshness
        _freshen(row, statement, last.isoformat(), precedence, touched, changed)
    if statement.observed_at < row["first_seen_at"]:
        _set(row, "first_seen_at", statement.observed_at, changed)
    if last > row["last_observed_at"]:
        _set(row, "last_observed_at", last, changed)
    for state, moment in statement.hints:
        _advance(row, RANK[state], moment, changed)


def _freshen(
    row: dict[str, Any],
    statement: StatusStatement,
    at: str,
    precedence: Precedence,
    touched: set[str],
    changed: set[str],
) -> None:
    sources, freshness = row["field_sources"], row["freshness"]
    if advance_freshness(sources, freshness, statement.source, at, statement.content_hash):
        changed.update(("freshness", "field_sources"))
        # a later statement can change who wins where sources of equal strength compete
        # (every source that spoke of the container has a freshness entry: no rival, no race)
        source, rank = statement.source, precedence.rank(statement.source)
        rivals = [other for other in freshness if other != source and precedence.rank(other) == rank]
        if rivals:
            touched.update(
                name
                for name, by_source in sources.items()
                if len(by_source) > 1 and any(rival in by_source for rival in rivals)
            )


_MILESTONE_COLUMNS = (
    _EVENTS.c.container_number,
    _EVENTS.c.event_code,
    _EVENTS.c.classifier,
    _EVENTS.c.empty_indicator,
    _EVENTS.c.event_at,
    _EVENTS.c.timed,
)


def _stored_events(session: Session, container_numbers: list[str]) -> Iterator[CurrentEvent]:
    current = (_EVENTS.c.superseded_by.is_(None), _EVENTS.c.classifier == "ACT")
    for row in rows_where_in(
        session, _MILESTONE_COLUMNS, _EVENTS.c.container_number, container_numbers, *current
    ):
        yield (
            row["container_number"],
            row["event_code"],
            row["classifier"],
            row["empty_indicator"],
            row["event_at"],
            bool(row["timed"]),
        )


def _event_milestones(events: Iterable[CurrentEvent]) -> dict[str, tuple[int, datetime]]:
    """Per container, the furthest lifecycle state its current actual events prove, and since when.

    At that state a timed event's moment wins over the "first seen" moments of untimed ones.
    """
    best: dict[str, tuple[int, bool, datetime]] = {}
    for container_number, event_code, classifier, empty_indicator, moment, timed in events:
        state = lifecycle_of(event_code, classifier, empty_indicator)
        if state is None:
            continue
        rank = RANK[state]
        known = best.get(container_number)
        if known is None or (rank, timed) > known[:2] or ((rank, timed) == known[:2] and moment < known[2]):
            best[container_number] = (rank, timed, moment)
    return {number: (rank, moment) for number, (rank, _timed, moment) in best.items()}


def _write(
    session: Session, inserts: list[dict[str, Any]], updates: dict[frozenset[str], list[dict[str, Any]]]
) -> None:
    if inserts:
        insert_many(session, _STATUS, inserts)
    for rows in updates.values():
        update_by_key(session, _STATUS, "container_number", rows)


def load_statuses(session: Session, container_numbers: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The stored status rows of these containers (absent: never seen)."""
    return {
        row["container_number"]: row
        for row in rows_where_in(
            session, list(_STATUS.c), _STATUS.c.container_number, list(container_numbers)
        )
    }


def merge_statuses(
    session: Session,
    statements: Iterable[StatusStatement],
    precedence: Precedence,
    now: datetime,
    events_changed: set[str] | None = None,
    stored: dict[str, dict[str, Any]] | None = None,
    new_container_events: Sequence[CurrentEvent] | None = None,
) -> set[str]:
    """Fold statements into container_status; the containers whose visible status changed.

    `events_changed`: containers whose current events changed, so their lifecycle is re-read
    (None: re-read all). `stored`: their rows as `load_statuses` read them in this transaction.
    `new_container_events`: the current events of the containers without a stored row, as the
    event merge left them (sync.events); not reading them back saves a query per 500 containers.
    """
    by_container: dict[str, list[StatusStatement]] = {}
    for statement in statements:
        by_container.setdefault(statement.container_number, []).append(statement)
    if not by_container:
        return set()
    if stored is None:
        stored = load_statuses(session, list(by_container))
    known_new = new_container_events is not None
    reread = [
        number
        for number in by_container
        if (number not in stored and not known_new)
        or (number in stored and (events_changed is None or number in events_changed))
    ]
    current_events: Iterable[CurrentEvent] = _stored_events(session, reread)
    if new_container_events:
        current_events = itertools.chain(current_events, new_container_events)
    milestones = _event_milestones(current_events)
    inserts: list[dict[str, Any]] = []
    updates: dict[frozenset[str], list[dict[str, Any]]] = {}
    visible: set[str] = set()
    for container_number, container_statements in by_container.items():
        row = stored.get(container_number)
        is_new = row is None
        if row is None:
            row = _new_row(container_number, min(statement.observed_at for statement in container_statements))
        touched: set[str] = set()
        changed: set[str] = set()
        for statement in sorted(container_statements, key=lambda item: item.observed_at):
            _fold(row, statement, precedence, touched, changed)
        if container_number in milestones:
            rank, moment = milestones[container_number]
            if rank == row["lifecycle_rank"]:
                _set(row, "lifecycle_at", moment, changed)  # the events are the record
            else:
                _advance(row, rank, moment, changed)
        if touched or "lifecycle" in changed:
            _apply_effective(row, touched, precedence, changed)
        if is_new or changed - BOOKKEEPING:
            row["updated_at"] = now
            changed.add("updated_at")
            visible.add(container_number)
        if is_new:
            inserts.append(row)
        elif changed:
            columns = frozenset(changed)
            updates.setdefault(columns, []).append(
                {"container_number": container_number, **{column: row[column] for column in columns}}
            )
    _write(session, inserts, updates)
    return visible


# The columns a repeated snapshot can move, loaded without the heavy provenance documents.
_LIGHT = (
    _STATUS.c.container_number,
    _STATUS.c.freshness,
    _STATUS.c.disagreements,
    _STATUS.c.last_observed_at,
)


def _recency_matters(row: dict[str, Any], source: str, precedence: Precedence) -> bool:
    """Could a later statement from `source`, repeating its latest snapshot, change a winner?

    Only against a source of equal strength (between sources of different strength, recency
    decides nothing): a status field they disagree on, or any event — events of equal-strength
    sources compete by recency, and the status row does not list them ("#" sources are vessel
    schedules, which state no container events). Or when the latest snapshot tied with another
    of the same moment (sync.precedence.TIED).
    """
    freshness = row["freshness"]
    if TIED in freshness[source]:
        return True
    rank = precedence.rank(source)
    # every source that ever spoke of the container has a freshness entry
    rivals = {other for other in freshness if other != source and precedence.rank(other) == rank}
    return any("#" not in rival for rival in rivals) or any(
        rival in by_source for by_source in row["disagreements"].values() for rival in rivals
    )


def plan_restatements(
    session: Session, statements: list[StatusStatement], precedence: Precedence
) -> tuple[list[StatusStatement], list[str]]:
    """Split repeated statements into those that only refresh and those needing a full merge.

    A statement only refreshes when it repeats its source's latest snapshot of the container,
    later, and nothing competes with it (no disagreement with a source of equal strength, which
    the new time could settle differently). Returns (statements needing a full merge, containers
    whose freshness was refreshed here).
    """
    rows = {
        row["container_number"]: row
        for row in rows_where_in(
            session, _LIGHT, _STATUS.c.container_number, [s.container_number for s in statements]
        )
    }
    full: list[StatusStatement] = []
    self_refresh: dict[str, list[StatusStatement]] = {}
    for statement in statements:
        row = rows.get(statement.container_number)
        latest = row["freshness"].get(statement.source) if row else None
        if (
            row is None
            or latest is None
            or latest[1] != statement.content_hash
            or statement.observed_at.isoformat() <= latest[0]
            or _recency_matters(row, statement.source, precedence)
        ):
            full.append(statement)
        else:
            self_refresh.setdefault(statement.container_number, []).append(statement)
    # A container with any full statement in this batch is merged fully, repeats included.
    needing_full = {statement.container_number for statement in full}
    for number in list(self_refresh):
        if number in needing_full:
            full.extend(self_refresh.pop(number))
    refreshed = []
    updates = []
    for number, repeats in self_refresh.items():
        row = rows[number]
        freshness = dict(row["freshness"])
        for statement in repeats:
            at = statement.observed_at.isoformat()
            if at > freshness[statement.source][0]:
                freshness[statement.source] = [at, statement.content_hash]
        last = max([row["last_observed_at"], *(statement.observed_at for statement in repeats)])
        updates.append({"container_number": number, "freshness": freshness, "last_observed_at": last})
        refreshed.append(number)
    update_by_key(session, _STATUS, "container_number", updates)
    return full, refreshed
