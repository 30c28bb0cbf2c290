"""Set-based helpers for the ingest path: chunked IN look-ups, executemany inserts and updates.

The ingest path reads and writes tens of thousands of rows per batch; SQLAlchemy's per-row
parameter and result processing costs 3-4x the driver's own work there. These helpers speak to
the DB-API connection of the caller's session (same transaction) and convert values with the
same encodings the ORM uses (see store.types), so rows written here and through the ORM are
indistinguishable. Everything else in quaysync uses SQLAlchemy normally.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import JSON, Boolean, Column, Date, Table
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from store.types import UTCDateTime

# Well under SQLite's and PostgreSQL's bound-parameter limits.
CHUNK = 500

Convert = Callable[[Any], Any]


def _keep(value: Any) -> Any:
    return value


@lru_cache(maxsize=8192)  # a batch repeats its moments (created_at, snapshot times) many times
def _sqlite_moment_in(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _sqlite_moment_out(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)


def _postgres_moment_in(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC).replace(tzinfo=None)


def _postgres_moment_out(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(tzinfo=UTC)


def _json_text(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def _sqlite_day_in(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _sqlite_day_out(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _sqlite_flag_out(value: int | None) -> bool | None:
    return None if value is None else bool(value)


def _postgres_json_in(value: Any) -> Any:
    from psycopg.types.json import Jsonb

    return Jsonb(value, dumps=_json_text)


def _codec(dialect: str, column: Column[Any]) -> tuple[Convert, Convert]:
    """(to the driver, from the driver) for one column."""
    kind = column.type
    if isinstance(kind, UTCDateTime):
        if dialect == "sqlite":
            return _sqlite_moment_in, _sqlite_moment_out
        return _postgres_moment_in, _postgres_moment_out
    if isinstance(kind, JSON):
        if dialect == "sqlite":
            return _json_text, lambda value: None if value is None else orjson.loads(value)
        return _postgres_json_in, _keep  # psycopg hands jsonb back as Python objects
    if dialect == "sqlite" and isinstance(kind, Date):
        return _sqlite_day_in, _sqlite_day_out
    if dialect == "sqlite" and isinstance(kind, Boolean):
        return _keep, _sqlite_flag_out
    return _keep, _keep


@lru_cache(maxsize=512)
def _codecs(dialect: str, table: Table, names: tuple[str, ...]) -> tuple[tuple[Convert, Convert], ...]:
    return tuple(_codec(dialect, table.c[name]) for name in names)


def _driver(session: Session) -> tuple[Any, str, Callable[[str], str]]:
    """The session's DB-API connection (same transaction), its dialect name, and identifier quoting."""
    connection = session.connection()
    dialect = connection.dialect
    return connection.connection.driver_connection, dialect.name, dialect.identifier_preparer.quote


def _placeholder(dialect: str) -> str:
    return "?" if dialect == "sqlite" else "%s"


def rows_where_in(
    session: Session,
    columns: Sequence[Column[Any]],
    key: Column[Any],
    values: Sequence[Any],
    *criteria: ColumnElement[bool],
) -> Iterator[dict[str, Any]]:
    """Rows (as dicts) of one table whose `key` is one of `values`, fetched in chunks.

    `criteria`: extra SQLAlchemy conditions ANDed in (e.g. `table.c.superseded_by.is_(None)`).
    They are rendered with literal values, so use them for constants of the code, never for
    values that come from outside.
    """
    ordered = sorted(set(values))
    if not ordered:
        return
    table = key.table
    assert isinstance(table, Table)
    connection = session.connection()
    driver, dialect, quote = _driver(session)
    mark = _placeholder(dialect)
    names = tuple(column.name for column in columns)
    converted = [
        (name, decode)
        for name, (_encode, decode) in zip(names, _codecs(dialect, table, names), strict=True)
        if decode is not _keep
    ]
    key_encode = _codecs(dialect, table, (key.name,))[0][0]
    extra = [
        str(criterion.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
        for criterion in criteria
    ]
    if dialect == "sqlite":
        # The key drives the lookup. Without statistics SQLite's planner takes an equality or a
        # short IN list on a column of a few values ("container_number = ''", "event_code IN
        # (...)") for the selective term and scans the whole of it; told that the criteria
        # hold for most rows, it reads by the key's index.
        extra = [f"likelihood({criterion}, 0.9375)" for criterion in extra]
    selected = ", ".join(quote(name) for name in names)
    cursor = driver.cursor()
    try:
        for start in range(0, len(ordered), CHUNK):
            chunk = ordered[start : start + CHUNK]
            where = " AND ".join([f"{quote(key.name)} IN ({', '.join([mark] * len(chunk))})", *extra])
            cursor.execute(
                f"SELECT {selected} FROM {quote(table.name)} WHERE {where}", [key_encode(v) for v in chunk]
            )
            for row in cursor.fetchall():
                found = dict(zip(names, row, strict=True))
                for name, decode in converted:
                    found[name] = decode(found[name])
                yield found
    finally:
        cursor.close()


def insert_many(
    session: Session, table: Table, rows: Sequence[dict[str, Any]], *, skip_existing: bool = False
) -> int:
    """One executemany INSERT; every row names the same columns.

    `skip_existing`: rows that would violate a unique constraint are left out (INSERT OR IGNORE on
    SQLite, ON CONFLICT DO NOTHING on PostgreSQL) — for idempotent link tables.
    """
    if not rows:
        return 0
    driver, dialect, quote = _driver(session)
    names = tuple(rows[0])
    encoders = [encode for encode, _decode in _codecs(dialect, table, names)]
    mark = _placeholder(dialect)
    verb = "INSERT OR IGNORE" if skip_existing and dialect == "sqlite" else "INSERT"
    tail = " ON CONFLICT DO NOTHING" if skip_existing and dialect != "sqlite" else ""
    sql = (
        f"{verb} INTO {quote(table.name)} ({', '.join(quote(name) for name in names)}) "
        f"VALUES ({', '.join([mark] * len(names))}){tail}"
    )
    cursor = driver.cursor()
    try:
        cursor.executemany(sql, _encoded(rows, names, encoders))
    finally:
        cursor.close()
    return len(rows)


def _encoded(
    rows: Sequence[dict[str, Any]], names: tuple[str, ...], encoders: Sequence[Convert]
) -> list[list[Any]]:
    """The rows as parameter lists in `names` order, converted where a column needs it: most
    columns (text, numbers) go to the driver as they are, and a batch has 10^5 rows."""
    pick = operator.itemgetter(*names)
    converted = [(index, encode) for index, encode in enumerate(encoders) if encode is not _keep]
    if len(names) == 1:  # itemgetter of one name gives the value, not a tuple
        return [[encoders[0](row[names[0]])] for row in rows]
    encoded = []
    for row in rows:
        values = list(pick(row))
        for index, encode in converted:
            values[index] = encode(values[index])
        encoded.append(values)
    return encoded


def insert_with_ids(
    session: Session, table: Table, rows: Sequence[dict[str, Any]], key: Sequence[str]
) -> list[int]:
    """`insert_many`, then the new rows' ids (the `id` column), in the order of `rows`.

    `key`: columns that tell the rows apart (a unique constraint), to read the ids back by.
    SQLite gives a new row the table's largest rowid + 1, so one executemany under the
    transaction's write lock numbers its rows consecutively, unless the largest rowid ever was
    the maximum (then it picks at random). If the table's largest id is the connection's last
    inserted one, no row was picked at random: the ids are the run ending there, and nothing
    needs reading back.
    """
    insert_many(session, table, rows)
    if not rows:
        return []
    driver, dialect, quote = _driver(session)
    if dialect == "sqlite":
        cursor = driver.cursor()
        try:
            largest, last = cursor.execute(
                f"SELECT max({quote('id')}), last_insert_rowid() FROM {quote(table.name)}"
            ).fetchone()
        finally:
            cursor.close()
        if largest == last:
            return list(range(last - len(rows) + 1, last + 1))
    first = key[0]
    found = {
        tuple(row[name] for name in key): row["id"]
        for row in rows_where_in(
            session, [table.c.id, *(table.c[name] for name in key)], table.c[first], [r[first] for r in rows]
        )
    }
    return [found[tuple(row[name] for name in key)] for row in rows]


def update_by_key(session: Session, table: Table, key: str, rows: Sequence[dict[str, Any]]) -> int:
    """One executemany UPDATE; every row names the same columns plus the key column."""
    if not rows:
        return 0
    driver, dialect, quote = _driver(session)
    names = tuple(name for name in rows[0] if name != key)
    encoders = [encode for encode, _decode in _codecs(dialect, table, (*names, key))]
    mark = _placeholder(dialect)
    sql = (
        f"UPDATE {quote(table.name)} SET {', '.join(f'{quote(name)} = {mark}' for name in names)} "
        f"WHERE {quote(key)} = {mark}"
    )
    cursor = driver.cursor()
    try:
        cursor.executemany(sql, _encoded(rows, (*names, key), encoders))
    finally:
        cursor.close()
    return len(rows)
