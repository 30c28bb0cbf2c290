"""Import files into the store: one run per file, through the one ingest path, idempotent.

    import_file(config, store, path, source=source)          by hand (`run.py import FILE`)
    run_import_source(config, source, store, trigger=...)    the schedule: new or changed files only

Rows become observations of source `import:NAME` (`import:file` without a configured source);
`sync.ingest` turns them into order links, shipments and tracked container_status rows, so an
import and a portal agree on what a container is. Re-importing the same file adds nothing: the
observations repeat by content hash, links are unique triples, and a bad row already recorded as
a problem is not recorded twice. Each file's SHA-256 is kept in source_state, so a scheduled scan
does not re-read a file that did not change.
"""

from __future__ import annotations

import glob
import hashlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from quaysync.config import Config, ImportSource
from quaysync.errors import BadInputError, LayoutChangedError
from store import ContainerStatusRow, OrderLinkRow, ProblemRow, SourceStateRow, Store
from store.bulk import rows_where_in
from store.runs import finish_run, start_run
from sync.imports.reading import ImportReading, RowIssue, read_import
from sync.ingest import ingest
from sync.pipeline import build_ingest_settings

log = logging.getLogger(__name__)

RUN_KIND = "import"
FILE_SOURCE = "import:file"  # an import by hand without a configured source
IMPORT_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls", ".csv", ".tsv", ".txt", ".xml", ".htm", ".html"})
STATE_PREFIX = "file:"
MAX_RUN_ERRORS = 200  # the run row keeps the first ones; the problem table keeps them all


def source_name(source: ImportSource | None) -> str:
    return f"import:{source.name}" if source is not None else FILE_SOURCE


@dataclass
class ImportResult:
    """What one file's import did."""

    source: str
    file: str
    outcome: str = "ok"  # ok / partial / failed / layout_changed
    run_id: int | None = None
    sha256: str = ""
    rows: int = 0
    observations: int = 0
    containers: int = 0
    containers_new: int = 0
    bills_of_lading: int = 0
    links_added: int = 0
    duplicates: int = 0
    sheets: dict[str, int] = field(default_factory=dict)
    problems: list[RowIssue] = field(default_factory=list)
    skipped: list[RowIssue] = field(default_factory=list)
    ingest: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    error_kind: str | None = None

    def counts(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "observations": self.observations,
            "containers": self.containers,
            "containers_new": self.containers_new,
            "bills_of_lading": self.bills_of_lading,
            "links_added": self.links_added,
            "duplicates": self.duplicates,
            "problems": len(self.problems),
            "skipped": len(self.skipped),
            "added_observations": self.ingest.get("added_observations", 0),
            "added_events": self.ingest.get("added_events", 0),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "file": self.file,
            "outcome": self.outcome,
            "run_id": self.run_id,
            "sha256": self.sha256,
            "sheets": self.sheets,
            **self.counts(),
            "problems": [issue.to_json() for issue in self.problems],
            "skipped": [issue.to_json() for issue in self.skipped],
            "error": self.error,
            "error_kind": self.error_kind,
        }


def _state_key(path: Path) -> str:
    text = str(path)
    if len(STATE_PREFIX) + len(text) <= 200:
        return STATE_PREFIX + text
    # source_state keys are short; a long path is named by its digest (the value keeps the path)
    return STATE_PREFIX + "sha1:" + hashlib.sha1(text.encode()).hexdigest()


def _remember_file(session: Session, source: str, path: Path, result: ImportResult, now: datetime) -> None:
    value = {
        "path": str(path),
        "sha256": result.sha256,
        "run_id": result.run_id,
        "outcome": result.outcome,
        "imported_at": now.isoformat(),
    }
    row = session.get(SourceStateRow, (source, _state_key(path)))
    if row is None:
        session.add(SourceStateRow(source=source, key=_state_key(path), value=value, updated_at=now))
    else:
        row.value = value
        row.updated_at = now
    session.flush()


def known_digest(store: Store, source: str, path: Path) -> str | None:
    """The SHA-256 of `path` as last imported for `source`, if it was."""
    with store.session() as session:
        row = session.get(SourceStateRow, (source, _state_key(path)))
        return None if row is None else row.value.get("sha256")


def _store_problems(
    session: Session,
    source: str,
    path: Path,
    issues: list[RowIssue],
    run_id: int | None,
    now: datetime,
) -> int:
    """Problem rows for bad rows, except those already recorded for this file (re-imports)."""
    if not issues:
        return 0
    refs = {issue: f"{path}#{issue.sheet}!R{issue.row}" if issue.row else str(path) for issue in issues}
    table = ProblemRow.__table__
    known = {
        (row["source_ref"], row["reason"])
        for row in rows_where_in(
            session,
            [table.c.source_ref, table.c.reason],
            table.c.source_ref,
            list(set(refs.values())),
            table.c.source == source,
        )
    }
    rows = []
    for issue, ref in refs.items():
        if (ref, issue.reason) in known:
            continue
        known.add((ref, issue.reason))
        rows.append(
            {
                "source": source,
                "source_ref": ref,
                "kind": issue.kind,
                "reason": issue.reason,
                "subject_key": (issue.subject or "")[:120] or None,
                "raw": {"sheet": issue.sheet, "row": issue.row, "cells": list(issue.raw)},
                "run_id": run_id,
                "created_at": now,
            }
        )
    if rows:
        session.execute(insert(table), rows)
    return len(rows)


def _run_errors(result: ImportResult) -> list[dict[str, Any]]:
    errors = []
    if result.error:
        errors.append(
            {"kind": result.error_kind or "bad_input", "message": result.error, "subject": result.file}
        )
    for issue in result.problems[:MAX_RUN_ERRORS]:
        errors.append(
            {
                "kind": issue.kind,
                "message": f"{issue.sheet} row {issue.row}: {issue.reason}",
                "subject": issue.subject,
            }
        )
    return errors


def _outcome(reading: ImportReading) -> str:
    if not reading.problems:
        return "ok"
    return "partial" if reading.observations else "failed"


def _link_count(session: Session, source: str) -> int:
    table = OrderLinkRow.__table__
    return session.execute(
        select(func.count()).select_from(table).where(table.c.source == source)
    ).scalar_one()


def import_file(
    config: Config,
    store: Store,
    path: Path,
    *,
    source: ImportSource | None = None,
    trigger: str = "manual",
    links_only: bool | None = None,
    content: bytes | None = None,
    now: datetime | None = None,
) -> ImportResult:
    """Import one file (xlsx / xls / CSV ...) as `source` (None: `import:file` with defaults).

    Never raises for a bad file: the run is recorded as failed / layout_changed with the reason,
    and `result.error` says why. Bad rows are reported with their row numbers; good rows go in.
    """
    name = source_name(source)
    path = Path(path).absolute()
    result = ImportResult(source=name, file=str(path))
    now = now or datetime.now(UTC)
    with store.session() as session:
        result.run_id = start_run(session, name, RUN_KIND, trigger)
    try:
        if content is None:
            content = path.read_bytes()
        result.sha256 = hashlib.sha256(content).hexdigest()
        observed_at = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        time_zone = source.time_zone if source is not None else "UTC"
        reading = read_import(
            path.name,
            content,
            source=name,
            source_ref=str(path),
            observed_at=observed_at,
            time_zone=time_zone,
            extra_aliases=source.columns if source is not None else None,
            default_customer=source.customer if source is not None else None,
            sheet=source.sheet if source is not None else None,
            links_only=links_only if links_only is not None else bool(source and source.links_only),
        )
    except (BadInputError, LayoutChangedError, OSError) as error:
        return _record_failure(store, path, result, error, now)
    except BaseException as error:
        _abandon(store, result.run_id, error)
        raise

    result.rows, result.duplicates = reading.rows, reading.duplicates
    result.sheets, result.problems, result.skipped = reading.sheets, reading.problems, reading.skipped
    result.observations = len(reading.observations)
    containers = reading.containers
    result.containers, result.bills_of_lading = len(containers), len(reading.bills_of_lading)
    result.outcome = _outcome(reading)
    settings = build_ingest_settings(config, time_zone)
    try:
        with store.session() as session:
            status = ContainerStatusRow.__table__
            tracked = sum(
                1
                for _ in rows_where_in(
                    session, [status.c.container_number], status.c.container_number, list(containers)
                )
            )
            links_before = _link_count(session, name)
            report = ingest(session, reading.observations, settings=settings, run_id=result.run_id, now=now)
            result.ingest = report.as_counts()
            result.containers_new = len(containers) - tracked
            result.links_added = _link_count(session, name) - links_before
            _store_problems(session, name, path, result.problems, result.run_id, now)
            finish_run(
                session, result.run_id, result.outcome, result.counts(), _run_errors(result), [str(path)]
            )
            _remember_file(session, name, path, result, now)
    except BaseException as error:
        _abandon(store, result.run_id, error)
        raise
    log.info(
        "imported %s: %d containers (%d new), %d links added, %d bad rows",
        path.name,
        result.containers,
        result.containers_new,
        result.links_added,
        len(result.problems),
        extra={"source": name, "run_id": result.run_id},
    )
    return result


def _abandon(store: Store, run_id: int | None, error: BaseException) -> None:
    """Close the run of an import that an unexpected error (or Ctrl-C) stopped; nothing went in."""
    if run_id is None:
        return
    outcome = "interrupted" if isinstance(error, KeyboardInterrupt) else "failed"
    message = f"{type(error).__name__}: {error}"
    with store.session() as session:
        finish_run(session, run_id, outcome, errors=[{"kind": "internal", "message": message}])


def _record_failure(
    store: Store, path: Path, result: ImportResult, error: BaseException, now: datetime
) -> ImportResult:
    if isinstance(error, OSError):
        result.error, result.error_kind = f"{path.name}: cannot read: {error.strerror or error}", "bad_input"
    else:
        assert isinstance(error, BadInputError | LayoutChangedError)
        result.error, result.error_kind = error.message, error.kind
    result.outcome = "layout_changed" if isinstance(error, LayoutChangedError) else "failed"
    issue = RowIssue(sheet="", row=0, reason=result.error, kind=result.error_kind, subject=path.name)
    with store.session() as session:
        _store_problems(session, result.source, path, [issue], result.run_id, now)
        finish_run(session, result.run_id, result.outcome, result.counts(), _run_errors(result), [str(path)])
        if result.sha256:  # an unchanged broken file is not re-read on every tick; a fixed one is
            _remember_file(session, result.source, path, result, now)
    log.warning("import of %s failed: %s", path.name, result.error, extra={"source": result.source})
    return result


def source_files(config: Config, source: ImportSource) -> list[Path]:
    """The files an import source names now: a file, a glob, or a folder's spreadsheet files."""
    target = config.path(source.path)
    if any(character in source.path for character in "*?["):
        candidates = [Path(name) for name in glob.glob(str(target))]
    elif target.is_dir():
        candidates = [entry for entry in target.iterdir() if entry.suffix.lower() in IMPORT_SUFFIXES]
    else:
        candidates = [target]
    files = []
    for candidate in candidates:
        # Office lock files (~$book.xlsx), hidden files and partial downloads are not imports.
        if candidate.name.startswith(("~$", ".")) or candidate.suffix.lower() in (".part", ".tmp"):
            continue
        try:
            if candidate.is_file():
                files.append((candidate.stat().st_mtime, candidate.name, candidate.absolute()))
        except OSError:
            continue
    return [path for _, _, path in sorted(files)]


def run_import_source(
    config: Config, source: ImportSource, store: Store, *, trigger: str = "schedule"
) -> list[ImportResult]:
    """Import the source's new or changed files (by SHA-256); unchanged files are not re-read.

    One run per imported file; nothing at all when nothing changed. For the worker's schedule.
    """
    if not source.enabled:
        return []
    name = source_name(source)
    results = []
    for path in source_files(config, source):
        try:
            content = path.read_bytes()
        except OSError as error:  # vanished or locked between listing and reading: next tick
            log.warning("cannot read %s: %s", path, error, extra={"source": name})
            continue
        if known_digest(store, name, path) == hashlib.sha256(content).hexdigest():
            continue
        results.append(import_file(config, store, path, source=source, trigger=trigger, content=content))
    return results
