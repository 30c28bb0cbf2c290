"""Set-based helpers for the ingest path: chunked IN look-ups and executemany updates by key."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Column, Table, bindparam, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

# Well under SQLite's and PostgreSQL's bound-parameter limits.
CHUNK = 500


def rows_where_in(
    session: Session,
    columns: Sequence[Column[Any]],
    key: Column[Any],
    values: Sequence[Any],
    *criteria: ColumnElement[bool],
) -> Iterator[RowMapping]:
    """Rows whose `key` is one of `values` (and that meet `criteria`), fetched in chunks."""
    ordered = sorted(set(values))
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start : start + CHUNK]
        yield from session.execute(select(*columns).where(key.in_(chunk), *criteria)).mappings()


def update_by_key(session: Session, table: Table, key: str, rows: Sequence[dict[str, Any]]) -> int:
    """One executemany UPDATE; every row names the same columns plus the key column."""
    if not rows:
        return 0
    names = [name for name in rows[0] if name != key]
    statement = (
        update(table)
        .where(table.c[key] == bindparam("k_" + key))
        .values({name: bindparam("v_" + name) for name in names})
    )
    session.execute(
        statement,
        [{"k_" + key: row[key], **{"v_" + name: row[name] for name in names}} for row in rows],
    )
    return len(rows)
