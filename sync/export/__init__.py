"""Workbook export for analysts: one .xlsx (or one per customer), replaced atomically.

    run_export(config, export, store, trigger="schedule")    an `exports:` entry of config.yaml
    export_workbooks(store, path, ...)                        the same without config (tests, CLI)

Sheets: Containers, Events, Exceptions, Sources and Hotspots (sheets.py, put together in
workbook.py, times by clock.py); rows come from the store as streams (rows.py) and the writer
(xlsx.py) streams them into the file, so 50,000 containers and 500,000 events take seconds and
a few hundred MB at most. Files are replaced atomically (atomic.py). Each export is a run
(`export:NAME`, kind "export").
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from quaysync.collector import collector_paused
from quaysync.config import Config, ExportOptions
from quaysync.errors import QuaysyncError
from store import Store
from store.runs import finish_run, start_run
from sync.export import rows as queries
from sync.export.atomic import atomic_write
from sync.export.workbook import WorkbookSummary, write_workbook

log = logging.getLogger(__name__)

RUN_KIND = "export"
DEFAULT_NAME = "workbook"
_UNSAFE_IN_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def default_export(config: Config) -> ExportOptions:
    """What `run.py export` writes when config.yaml has no `exports:`."""
    return ExportOptions(name=DEFAULT_NAME, path=str(config.data_path / "exports" / "quaysync.xlsx"))


def customer_file_name(customer: str) -> str:
    """A customer's name made safe as part of a file name ('ACME/Europe' → 'ACME_Europe')."""
    cleaned = _UNSAFE_IN_NAME.sub("_", customer).strip(" .")
    return cleaned[:100] or "customer"


@dataclass
class ExportResult:
    name: str
    run_id: int | None = None
    outcome: str = "ok"
    workbooks: list[WorkbookSummary] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None

    @property
    def paths(self) -> list[str]:
        return [workbook.path for workbook in self.workbooks]

    def counts(self) -> dict[str, int]:
        return {
            "workbooks": len(self.workbooks),
            "containers": sum(workbook.containers for workbook in self.workbooks),
            "events": sum(workbook.events for workbook in self.workbooks),
            "exceptions": sum(workbook.exceptions for workbook in self.workbooks),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "export": self.name,
            "run_id": self.run_id,
            "outcome": self.outcome,
            "seconds": round(self.seconds, 3),
            **self.counts(),
            "workbooks": [workbook.to_json() for workbook in self.workbooks],
            "error": self.error,
        }


def _snapshot(session: Session) -> None:
    """Read every sheet from one snapshot of the store, so the sheets (and the row counts the
    package is built with) agree with each other while bots and mail polls keep writing.

    PostgreSQL: REPEATABLE READ, set before the session's first statement. SQLite (WAL): one read
    transaction — which Python's sqlite3 does not open for SELECTs by itself, so BEGIN it here.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    elif dialect == "sqlite":
        driver = session.connection().connection.dbapi_connection
        if driver is not None and not driver.in_transaction:
            driver.execute("BEGIN")


def _write_one(
    session: Session,
    target: Path,
    *,
    links: queries.LinkIndex,
    now: datetime,
    time_zone: str | None,
    customer: str | None,
    numbers: set[str] | None,
    exclude_run: int | None,
) -> WorkbookSummary:
    with atomic_write(target) as stream:
        return write_workbook(
            session,
            stream,
            path=str(target),
            links=links,
            now=now,
            time_zone=time_zone,
            customer=customer,
            numbers=numbers,
            exclude_run=exclude_run,
        )


def export_workbooks(
    store: Store,
    path: Path,
    *,
    per_customer: bool = False,
    customer: str | None = None,
    time_zone: str | None = None,
    now: datetime | None = None,
    exclude_run: int | None = None,
) -> list[WorkbookSummary]:
    """Write the workbook at `path` (with `per_customer`, one per customer: {customer} in `path`)."""
    now = now or datetime.now(UTC)
    written = []
    # Bulk work (quaysync.collector): the link index, the shared strings and the cached cells live
    # until the workbook is written, and the cyclic collector's passes over them were a tenth of it.
    with collector_paused(), store.session() as session:
        _snapshot(session)
        links = queries.load_links(session)
        if per_customer:
            targets = [
                (name, queries.customer_containers(session, links, name))
                for name in queries.customer_names(session)
            ]
        elif customer is not None:
            targets = [(customer, queries.customer_containers(session, links, customer))]
        else:
            targets = [(None, None)]
        for name, numbers in targets:
            target = Path(str(path).replace("{customer}", customer_file_name(name) if name else "all"))
            written.append(
                _write_one(
                    session,
                    target,
                    links=links,
                    now=now,
                    time_zone=time_zone,
                    customer=name,
                    numbers=numbers,
                    exclude_run=exclude_run,
                )
            )
    return written


def run_export(
    config: Config,
    export: ExportOptions,
    store: Store,
    *,
    trigger: str = "schedule",
    now: datetime | None = None,
    path: Path | None = None,
) -> ExportResult:
    """Write an `exports:` entry's workbook(s) as a run `export:NAME`; `path` overrides its path.

    Errors writing the file (a full disk, a folder that cannot be created) end the run as failed
    and come back in `result.error`; the previous workbook is then left as it was.
    """
    result = ExportResult(name=export.name)
    source = f"export:{export.name}"
    started = time.perf_counter()
    with store.session() as session:
        result.run_id = start_run(session, source, RUN_KIND, trigger)
    target = path if path is not None else config.path(export.path)
    error_kind = ""
    try:
        result.workbooks = export_workbooks(
            store,
            target,
            per_customer=export.per_customer,
            customer=export.customer,
            time_zone=export.time_zone,
            now=now,
            exclude_run=result.run_id,
        )
    except (OSError, QuaysyncError) as error:
        result.outcome = "failed"
        result.error = f"cannot write {target}: {error}"
        error_kind = error.kind if isinstance(error, QuaysyncError) else "io"
    except BaseException as error:
        with store.session() as session:
            outcome = "interrupted" if isinstance(error, KeyboardInterrupt) else "failed"
            message = f"{type(error).__name__}: {error}"
            finish_run(session, result.run_id, outcome, errors=[{"kind": "internal", "message": message}])
        raise
    result.seconds = time.perf_counter() - started
    errors = [{"kind": error_kind, "message": result.error, "subject": str(target)}] if result.error else []
    with store.session() as session:
        finish_run(session, result.run_id, result.outcome, result.counts(), errors, result.paths)
    if result.error:
        log.warning("export %s failed: %s", export.name, result.error, extra={"source": source})
    else:
        log.info(
            "exported %s: %d workbook(s), %d containers in %.1f s",
            export.name,
            len(result.workbooks),
            result.counts()["containers"],
            result.seconds,
            extra={"source": source, "run_id": result.run_id},
        )
    return result


__all__ = [
    "ExportResult",
    "WorkbookSummary",
    "customer_file_name",
    "default_export",
    "export_workbooks",
    "run_export",
]
