"""What a person needs to know about a firing, so nobody asks the customer twice: the
container's status summary, its last events, and the recent runs of the sources that spoke of it
(and what they answered). Read in bulk for all firings of an evaluation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.bulk import rows_where_in
from store.tables import EventRow, RunRow
from sync.rules.conditions import Firing, iso
from sync.rules.facts import ContainerFacts

_EVENTS = EventRow.__table__
_RUNS = RunRow.__table__
LAST_EVENTS = 10  # a container's latest current events, in a message
RUNS_PER_SOURCE = 5  # a source's latest runs, in a message
# The status columns a message shows of a container.
STATUS_SUMMARY = (
    "container_number",
    "lifecycle",
    "available",
    "holds",
    "last_free_day",
    "line_last_free_day",
    "fees",
    "yard_location",
    "appointment_at",
    "bill_of_lading",
    "carrier",
    "size_type",
    "vessel_name",
    "voyage",
    "vessel_eta",
    "vessel_ata",
    "terminal",
    "time_zone",
    "tracking",
    "not_found",
    "traffic_light",
)


def plain(value: Any) -> Any:
    """JSON-able: moments and days as ISO text."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def container_summary(facts: ContainerFacts) -> dict[str, Any]:
    summary = {name: plain(facts.status.get(name)) for name in STATUS_SUMMARY}
    summary["freshness"] = {
        source: latest[0] for source, latest in (facts.status.get("freshness") or {}).items() if latest
    }
    return summary


@dataclass
class Background:
    events: dict[str, list[dict[str, Any]]]  # container → its latest current events
    runs: dict[str, list[dict[str, Any]]]  # source → its latest runs, newest first


def utc_moment(moment: Any) -> Any:
    if isinstance(moment, str):  # aggregates and subquery columns may come back as text on SQLite
        moment = datetime.fromisoformat(moment)
    if isinstance(moment, datetime) and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def load_background(
    session: Session, firings: Sequence[Firing], facts: dict[str, ContainerFacts]
) -> Background:
    """The last events of the firings' containers and the recent runs of their sources, in bulk."""
    containers = sorted({firing.container for firing in firings if firing.container in facts})
    events: dict[str, list[dict[str, Any]]] = {}
    columns = (
        _EVENTS.c.id,
        _EVENTS.c.container_number,
        _EVENTS.c.event_at,
        _EVENTS.c.event_code,
        _EVENTS.c.classifier,
        _EVENTS.c.facility,
        _EVENTS.c.location_code,
        _EVENTS.c.vessel_name,
        _EVENTS.c.source,
        _EVENTS.c.timed,
        _EVENTS.c.details,
    )
    for row in rows_where_in(
        session, columns, _EVENTS.c.container_number, containers, _EVENTS.c.superseded_by.is_(None)
    ):
        events.setdefault(row["container_number"], []).append(dict(row))
    last_events = {
        number: [
            {
                "at": iso(row["event_at"]),
                "code": row["event_code"],
                "classifier": row["classifier"],
                "facility": row["facility"],
                "location": row["location_code"],
                "vessel": row["vessel_name"],
                "source": row["source"],
                "timed": row["timed"],
                "details": row["details"],
            }
            for row in sorted(rows, key=lambda row: (row["event_at"], row["id"]), reverse=True)[:LAST_EVENTS]
        ]
        for number, rows in events.items()
    }
    sources = {firing.source for firing in firings if firing.source}
    for number in containers:
        sources.update(source for source in facts[number].status.get("freshness") or {} if "#" not in source)
    runs: dict[str, list[dict[str, Any]]] = {}
    wanted = sorted(sources)
    for start in range(0, len(wanted), 500):
        numbered = (
            select(
                _RUNS,
                func.row_number().over(partition_by=_RUNS.c.source, order_by=_RUNS.c.id.desc()).label("nth"),
            )
            .where(_RUNS.c.source.in_(wanted[start : start + 500]))
            .subquery()
        )
        for row in session.execute(
            select(numbered).where(numbered.c.nth <= RUNS_PER_SOURCE).order_by(numbered.c.id.desc())
        ).mappings():
            runs.setdefault(row["source"], []).append(
                {
                    "id": row["id"],
                    "source": row["source"],
                    "kind": row["kind"],
                    "started_at": iso(utc_moment(row["started_at"])),
                    "outcome": row["outcome"],
                    "counts": row["counts"],
                    "errors": list(row["errors"] or [])[:5],
                    "evidence": list(row["evidence"] or []),
                }
            )
    return Background(last_events, runs)


def firing_context(
    firing: Firing,
    facts: ContainerFacts | None,
    background: Background,
    affected: Sequence[str] = (),
) -> dict[str, Any]:
    """Everything a person needs, so nobody asks the customer twice."""
    runs: list[dict[str, Any]] = []
    tried: list[str] = []
    if firing.source:
        runs.extend(background.runs.get(firing.source, []))
    if facts is not None:
        freshness = facts.status.get("freshness") or {}
        sources = sorted(source for source in freshness if "#" not in source)
        for source in sources:
            tried.append(f"{source}: last statement {freshness[source][0]}")
        for source, words in sorted((facts.status.get("not_found") or {}).items()):
            tried.append(f"{source}: searched, answered {words!r}")
        for source in sources:
            if source != firing.source:
                runs.extend(background.runs.get(source, [])[:2])
    for run in runs:
        error = next((item for item in run["errors"] if isinstance(item, dict)), None)
        said = f": {error.get('kind', '')} {error.get('message', '')}".rstrip() if error else ""
        where = f"{run['kind']} {run['source']} at {run['started_at']}"
        tried.append(f"run {run['id']} {where} → {run['outcome']}{said}")
    evidence = list(firing.evidence)
    for run in runs:
        if run["outcome"] != "ok":
            evidence.extend(str(path) for path in run["evidence"])
    portal = firing.source if firing.source and firing.source.startswith("portal:") else None
    return {
        "condition": firing.rule.when,
        # read by the hotspots count (api.hotspots): where the exception happened
        "terminal": facts.status.get("terminal") if facts else portal,
        "carrier": facts.status.get("carrier") if facts else None,
        "facts": plain(firing.facts),
        "container": container_summary(facts) if facts else None,
        "links": {
            "orders": facts.orders if facts else [],
            "bill_of_lading": facts.bill_of_lading if facts else None,
            "customers": facts.customers if facts else [],
        },
        "last_events": background.events.get(facts.number, []) if facts else [],
        "tried": tried,
        "runs": runs,
        "evidence": list(dict.fromkeys(evidence)),
        "affected_containers": list(affected[:50]),
        "affected_count": len(affected),
    }
