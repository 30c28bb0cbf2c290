"""Vessel calls (a vessel's visit to a terminal) from vessel-schedule observations.

A call's ETA/ATA/ETD/ATD, berth and status follow `sync.precedence` like container fields. When a
call changes, the containers on that vessel and voyage get its ETA/ATA, as a statement of the
schedule's source ("SOURCE#vessel", so the container's own freshness for SOURCE is not touched).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.tables import ContainerStatusRow, VesselCallRow
from sync.normalize import Normalized
from sync.precedence import Precedence, advance_freshness, effective, record
from sync.status import StatusStatement

CALL_FIELDS = ("eta", "ata", "etd", "atd", "berth", "status", "location_code")
MOMENTS = ("eta", "ata", "etd", "atd")


@dataclass(slots=True)
class _CallStatement:
    source: str
    at: str
    content_hash: str
    values: dict[str, Any]


def _call_statement(normalized: Normalized, content_hash: str) -> tuple[tuple[str, str, str], _CallStatement]:
    observation = normalized.observation
    fields = observation.fields
    key = (
        str(fields.get("vessel") or "").strip().upper(),
        str(fields.get("voyage") or "").strip().upper(),
        str(fields.get("terminal") or "").strip(),
    )
    values: dict[str, Any] = {}
    if "eta" in fields:
        values["eta"] = normalized.status.get("vessel_eta")
    if "ata" in fields:
        values["ata"] = normalized.status.get("vessel_ata")
    for event in normalized.events:
        if event.event_code == "DEPA" and event.event_at:
            values["etd" if event.classifier == "EST" else "atd"] = event.event_at.isoformat()
    for name, column in (("berth", "berth"), ("vessel_status", "status"), ("location", "location_code")):
        if name in fields:
            values[column] = str(fields[name] or "").strip() or None
    statement = _CallStatement(observation.source, observation.observed_at.isoformat(), content_hash, values)
    return key, statement


def merge_vessel_calls(
    session: Session, calls: list[tuple[Normalized, str]], precedence: Precedence, now: datetime
) -> list[StatusStatement]:
    """Upsert vessel calls from (normalized, content hash) pairs; ETA/ATA statements for their containers."""
    pending: dict[tuple[str, str, str], list[_CallStatement]] = {}
    zones: dict[tuple[str, str, str], str] = {}
    for normalized, content_hash in calls:
        key, statement = _call_statement(normalized, content_hash)
        pending.setdefault(key, []).append(statement)
        zones.setdefault(key, normalized.time_zone)
    if not pending:
        return []
    existing = {
        (row.vessel_name, row.voyage, row.facility): row
        for row in session.execute(
            select(VesselCallRow).where(VesselCallRow.vessel_name.in_({key[0] for key in pending}))
        ).scalars()
    }
    follow_ups: list[StatusStatement] = []
    for key, statements in pending.items():
        row = existing.get(key)
        sources = {
            name: {s: list(e) for s, e in by.items()}
            for name, by in (row.field_sources if row else {}).items()
        }
        freshness = {source: list(latest) for source, latest in (row.freshness if row else {}).items()}
        changed = row is None
        for statement in sorted(statements, key=lambda item: item.at):
            changed |= advance_freshness(
                sources, freshness, statement.source, statement.at, statement.content_hash
            )
            for name, value in statement.values.items():
                changed |= bool(
                    record(
                        sources,
                        freshness,
                        name,
                        statement.source,
                        value,
                        statement.at,
                        statement.content_hash,
                    )
                )
        if not changed:
            continue
        values = {name: effective(sources, freshness, name, precedence)[0] for name in CALL_FIELDS}
        for name in MOMENTS:
            values[name] = datetime.fromisoformat(values[name]) if values[name] else None
        if row is None:
            row = VesselCallRow(
                vessel_name=key[0],
                voyage=key[1],
                facility=key[2],
                time_zone=zones[key],
                field_sources=sources,
                freshness=freshness,
                updated_at=now,
                **values,
            )
            session.add(row)
        else:
            for name, value in values.items():
                setattr(row, name, value)
            row.field_sources, row.freshness, row.updated_at = sources, freshness, now
        latest = max(statements, key=lambda item: item.at)
        on_board = session.execute(
            select(ContainerStatusRow.container_number).where(
                func.upper(ContainerStatusRow.vessel_name) == key[0],
                func.upper(func.coalesce(ContainerStatusRow.voyage, "")) == key[1],
            )
        ).scalars()
        eta, ata = values["eta"], values["ata"]
        schedule = {
            "vessel_eta": eta.isoformat() if eta else None,
            "vessel_ata": ata.isoformat() if ata else None,
        }
        follow_ups.extend(
            StatusStatement(
                number,
                f"{latest.source}#vessel",
                datetime.fromisoformat(latest.at),
                latest.content_hash,
                dict(schedule),
            )
            for number in on_board
        )
    session.flush()
    return follow_ups
