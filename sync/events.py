"""Events: natural keys, versions, and which version is current.

A fact's natural key is (subject, event type, code, classifier, hold facet, UN/LOCODE); what the
source says about it (the time, empty/laden) is its version. Re-ingesting a version adds nothing.
A different version (a corrected discharge time, a slipped ETA) is a new row; the old one stays,
pointing at the version that supersedes it.

The current version is the first in a fixed order — strongest source, timed before untimed, most
recently stated — so arrival order never matters. "Most recently stated" is only needed between
versions that tie on the first two ("contested" keys, e.g. a slipping ETA from one carrier); for
those, when the batch touches them, the versions' last statements are read back from the
observation history (whose rows know when they were last said). Re-statements of an uncontested
version — nearly all traffic: every scrape repeats what it said before — write nothing here.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from quaysync.model import Observation
from store.bulk import CHUNK, insert_with_ids, update_by_key
from store.tables import EventRow, ObservationRow
from sync.normalize import EventFact, Normalized, normalize
from sync.precedence import Precedence

EVENT_NAMESPACE = uuid.UUID("6f1c3a52-58c4-4f47-9d8e-0d3f4c1b2a11")
_EVENTS = EventRow.__table__
_OBSERVATIONS = ObservationRow.__table__


_NAMESPACE_BYTES = EVENT_NAMESPACE.bytes


def event_uuid(name: str) -> str:
    """`str(uuid.uuid5(EVENT_NAMESPACE, name))`, without building a UUID object: every new
    event version gets one, and the object cost as much as the SHA-1."""
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + name.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


@lru_cache(maxsize=65536)
def _digest(*parts: object) -> str:
    text = "\x1f".join("" if part is None else str(part) for part in parts)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


@dataclass(slots=True)
class EventCandidate:
    """A fact as one observation states it, ready to be versioned."""

    fact: EventFact
    subject_kind: str
    subject_key: str
    source: str
    observed_at: datetime
    observation_id: int | None
    observation_hash: str
    time_zone: str
    last_observed_at: datetime | None = None  # when the same content was last said (None: observed_at)
    natural_key: str = ""
    version_hash: str = ""

    def __post_init__(self) -> None:
        fact = self.fact
        self.natural_key = _digest(
            self.subject_kind,
            self.subject_key,
            fact.event_type,
            fact.event_code,
            fact.classifier,
            fact.facet,
            fact.location_code,
        )
        self.version_hash = _digest(fact.event_at or "untimed", fact.empty_indicator)


def event_candidates(
    normalized: Normalized,
    observation: Observation,
    observation_id: int | None,
    observation_hash: str,
    last_observed_at: datetime | None = None,
) -> list[EventCandidate]:
    """The facts an observation states, as candidates. `normalized` may be shared by observations
    of the same content; who said it and when come from `observation` (and `last_observed_at`,
    when the same content was said again later)."""
    if normalized.subject_key is None:
        return []
    timed = {(fact.event_code, fact.classifier, fact.facet) for fact in normalized.events if fact.event_at}
    return [
        EventCandidate(
            fact,
            observation.subject,
            normalized.subject_key,
            observation.source,
            observation.observed_at,
            observation_id,
            observation_hash,
            normalized.time_zone,
            last_observed_at,
        )
        for fact in normalized.events
        # the same observation also gives the time: its untimed echo adds nothing
        if fact.event_at is not None or (fact.event_code, fact.classifier, fact.facet) not in timed
    ]


@dataclass(slots=True)
class _Version:
    """One (natural key, version) as the store will hold it after this batch."""

    natural_key: str
    version_hash: str
    source: str
    first_seen: datetime
    last_seen: datetime
    event_at: datetime
    timed: bool
    observation_id: int | None
    observation_hash: str  # the first statement's observation: provenance, ties broken by hash
    subject: tuple[str, str] = ("", "")
    row_id: int | None = None
    stored: dict[str, Any] | None = None  # the row as loaded, to write only what changed
    candidate: EventCandidate | None = None


# A current event as a container's lifecycle reads it (sync.status):
# (container number, event code, classifier, empty indicator, event time, timed)
CurrentEvent = tuple[str, str, str, str | None, datetime, bool]


@dataclass
class EventMergeResult:
    added_ids: list[int] = field(default_factory=list)
    updated: int = 0
    # containers with any event row added or changed (their lifecycle is re-read)
    containers_changed: set[str] = field(default_factory=set)
    # the current events of containers the store had never seen, which are all in this batch
    new_container_events: list[CurrentEvent] = field(default_factory=list)


def _version_of(candidate: EventCandidate) -> _Version:
    # positional: one per fact of a batch, and keywords cost a third more
    at = candidate.observed_at
    event_at = candidate.fact.event_at
    return _Version(
        candidate.natural_key,
        candidate.version_hash,
        candidate.source,
        at,  # first_seen
        candidate.last_observed_at or at,  # last_seen
        event_at or at,
        event_at is not None,  # timed
        candidate.observation_id,
        candidate.observation_hash,
        (candidate.subject_kind, candidate.subject_key),
        None,  # row_id
        None,  # stored
        candidate,
    )


def _aggregate(
    candidates: Iterable[EventCandidate], precedence: Precedence
) -> dict[tuple[str, str], _Version]:
    versions: dict[tuple[str, str], _Version] = {}
    for candidate in candidates:
        key = (candidate.natural_key, candidate.version_hash)
        if key in versions:
            _absorb(versions[key], _version_of(candidate), precedence)
        else:
            versions[key] = _version_of(candidate)
    return versions


def _provenance(version: _Version) -> tuple[datetime, str, str]:
    details = repr(sorted(version.candidate.fact.details.items())) if version.candidate else ""
    return version.first_seen, version.observation_hash, details


def _absorb(version: _Version, other: _Version, precedence: Precedence) -> None:
    """Fold another statement of the same version in. The strongest source that stated it (ties:
    by name) is kept as its source; the earliest statement (ties: smallest observation hash) is
    its provenance. Both are fixed orders, so arrival order does not matter."""
    if (precedence.rank(other.source), other.source) < (precedence.rank(version.source), version.source):
        version.source = other.source
    if other.candidate is not None and _provenance(other) < _provenance(version):
        version.first_seen = other.first_seen
        version.observation_id = other.observation_id
        version.observation_hash = other.observation_hash
        version.candidate = other.candidate
        if not version.timed:
            version.event_at = other.first_seen
    version.last_seen = max(version.last_seen, other.last_seen)


def _class(version: _Version, precedence: Precedence) -> tuple[int, bool]:
    return precedence.rank(version.source), not version.timed


def _contested(versions: Sequence[_Version], precedence: Precedence) -> bool:
    """Do two versions tie on (source strength, timed)? Then recency decides between them."""
    if len(versions) < 2:
        return False
    best = min(_class(version, precedence) for version in versions)
    return sum(1 for version in versions if _class(version, precedence) == best) > 1


def _current(versions: Sequence[_Version], precedence: Precedence) -> _Version:
    return min(
        versions,
        key=lambda version: (
            *_class(version, precedence),
            -version.last_seen.timestamp(),
            version.version_hash,
        ),
    )


def _last_statements(
    session: Session, subject: tuple[str, str], wanted: set[tuple[str, str]], default_zone: str
) -> dict[tuple[str, str], datetime]:
    """When each wanted version was last stated, from the observations of its subject."""
    found: dict[tuple[str, str], datetime] = {}
    rows = session.execute(
        select(_OBSERVATIONS).where(
            _OBSERVATIONS.c.subject == subject[0], _OBSERVATIONS.c.subject_key == subject[1]
        )
    ).mappings()
    for row in rows:
        observation = Observation(
            row["source"],
            row["source_ref"],
            row["observed_at"],
            row["fields"],
            row["subject"],
            row["parser"],
            row["time_zone"],
        )
        for candidate in event_candidates(
            normalize(observation, default_zone), observation, row["id"], row["content_hash"]
        ):
            key = (candidate.natural_key, candidate.version_hash)
            if key in wanted and (key not in found or row["last_observed_at"] > found[key]):
                found[key] = row["last_observed_at"]
    return found


def _row(version: _Version, now: datetime) -> dict[str, Any]:
    candidate = version.candidate
    assert candidate is not None
    fact = candidate.fact
    subject = candidate.subject_key
    return {
        "event_id": event_uuid(version.natural_key + version.version_hash),
        "natural_key": version.natural_key,
        "version_hash": version.version_hash,
        "event_type": fact.event_type,
        "event_code": fact.event_code,
        "classifier": fact.classifier,
        "event_at": version.event_at,
        "time_zone": candidate.time_zone,
        "timed": version.timed,
        "container_number": subject if candidate.subject_kind == "container" else None,
        "bill_of_lading": subject if candidate.subject_kind == "bill_of_lading" else None,
        "location_code": fact.location_code,
        "facility": fact.facility,
        "vessel_name": fact.vessel_name,
        "voyage": fact.voyage,
        "empty_indicator": fact.empty_indicator,
        "details": {**fact.details, **({"facet": fact.facet} if fact.facet else {})},
        "source": version.source,
        "observation_id": version.observation_id,
        "observed_at": version.first_seen,
        "superseded_by": None,
        "created_at": now,
    }


_LOADED = (
    _EVENTS.c.id,
    _EVENTS.c.natural_key,
    _EVENTS.c.version_hash,
    _EVENTS.c.source,
    _EVENTS.c.observed_at,
    _EVENTS.c.event_at,
    _EVENTS.c.timed,
    _EVENTS.c.observation_id,
    _EVENTS.c.superseded_by,
)
_MUTABLE = ("source", "observed_at", "event_at", "observation_id", "superseded_by")
# Columns describing the provenance statement; rewritten when an earlier statement turns up.
_DESCRIPTIVE = ("time_zone", "location_code", "facility", "vessel_name", "voyage", "details")


def _load(session: Session, natural_keys: Iterable[str]) -> dict[str, list[_Version]]:
    by_key: dict[str, list[_Version]] = {}
    provenance = _EVENTS.outerjoin(_OBSERVATIONS, _EVENTS.c.observation_id == _OBSERVATIONS.c.id)
    wanted = sorted(set(natural_keys))
    for start in range(0, len(wanted), CHUNK):
        query = (
            select(*_LOADED, _OBSERVATIONS.c.content_hash)
            .select_from(provenance)
            .where(_EVENTS.c.natural_key.in_(wanted[start : start + CHUNK]))
        )
        for row in session.execute(query).mappings():
            _keep(by_key, row)
    return by_key


def _keep(by_key: dict[str, list[_Version]], row: Any) -> None:
    by_key.setdefault(row["natural_key"], []).append(
        _Version(
            natural_key=row["natural_key"],
            version_hash=row["version_hash"],
            source=row["source"],
            first_seen=row["observed_at"],
            last_seen=row["observed_at"],  # recovered from history where it matters
            event_at=row["event_at"],
            timed=row["timed"],
            observation_id=row["observation_id"],
            observation_hash=row["content_hash"] or "",
            row_id=row["id"],
            stored=dict(row),
        )
    )


def merge_events(
    session: Session,
    candidates: Sequence[EventCandidate],
    precedence: Precedence,
    now: datetime,
    default_zone: str = "UTC",
    unseen: frozenset[tuple[str, str]] = frozenset(),
) -> EventMergeResult:
    """Store new versions, fold repeated ones in, and point superseded versions at the current one.

    `unseen`: subjects the store has never had (e.g. containers without a status row): they have
    no events yet, so nothing is looked up for them.
    """
    result = EventMergeResult()
    incoming = _aggregate(candidates, precedence)
    if not incoming:
        return result
    by_key = _load(session, {key for key, _ in incoming if incoming[key, _].subject not in unseen})
    fresh: list[_Version] = []
    touched: dict[str, tuple[str, str]] = {}
    for (natural_key, version_hash), arriving in incoming.items():
        touched[natural_key] = arriving.subject
        versions = by_key.setdefault(natural_key, [])
        existing = next((version for version in versions if version.version_hash == version_hash), None)
        if existing is None:
            versions.append(arriving)
            fresh.append(arriving)
        else:
            _absorb(existing, arriving, precedence)

    history: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for natural_key, subject in touched.items():
        if _contested(by_key[natural_key], precedence):
            history.setdefault(subject, set()).update(
                (natural_key, v.version_hash) for v in by_key[natural_key]
            )
    for subject, wanted in history.items():
        for (natural_key, version_hash), moment in _last_statements(
            session, subject, wanted, default_zone
        ).items():
            for version in by_key[natural_key]:
                if version.version_hash == version_hash and moment > version.last_seen:
                    version.last_seen = moment

    if fresh:
        rows = [_row(version, now) for version in fresh]
        ids = insert_with_ids(session, _EVENTS, rows, ("natural_key", "version_hash"))
        for version, row_id in zip(fresh, ids, strict=True):
            version.row_id = row_id
        result.added_ids.extend(sorted(ids))

    updates: list[dict[str, Any]] = []
    described_updates: list[dict[str, Any]] = []
    for natural_key, subject in touched.items():
        versions = by_key[natural_key]
        current = _current(versions, precedence)
        changed_here = False
        for version in versions:
            if version.stored is None and version is current:  # a new current version: written
                changed_here = True
                continue
            wanted = {
                "source": version.source,
                "observed_at": version.first_seen,
                "event_at": version.event_at,
                "observation_id": version.observation_id,
                "superseded_by": None if version is current else current.row_id,
            }
            if version.stored is None:
                changed_here = True
                if wanted["superseded_by"] is not None:
                    updates.append({"id": version.row_id, **wanted})
            elif version.candidate is not None:  # an earlier statement became its provenance
                described = _row(version, now)
                changed_here = True
                described_updates.append(
                    {"id": version.row_id, **wanted, **{name: described[name] for name in _DESCRIPTIVE}}
                )
            elif any(version.stored[name] != wanted[name] for name in _MUTABLE):
                changed_here = True
                updates.append({"id": version.row_id, **wanted})
        if changed_here and subject[0] == "container":
            result.containers_changed.add(subject[1])
        if subject in unseen and current.candidate is not None:
            fact = current.candidate.fact
            result.new_container_events.append(
                (
                    subject[1],
                    fact.event_code,
                    fact.classifier,
                    fact.empty_indicator,
                    current.event_at,
                    current.timed,
                )
            )
    result.updated = update_by_key(session, _EVENTS, "id", updates)
    result.updated += update_by_key(session, _EVENTS, "id", described_updates)
    return result
