"""Hot SELECTs compiled once and run on the driver's cursor: the read path's prepared statements.

SQLAlchemy's Core execution costs 50-80 µs a statement here (cache key, execution context,
result metadata, row processing) where SQLite's own work for an indexed look-up is 5-20 µs;
at 300 requests/s on two cores that overhead was most of a request's budget
(bench/api_latency.py). A `Prepared` statement is still written with SQLAlchemy: the
connection's dialect (SQLite or PostgreSQL) compiles it on first use, and its values go through
the type processors SQLAlchemy itself would apply (store.types: UTC datetimes, JSON documents),
so its rows read like Core's — tuples whose values are also attributes named after the columns.

For statements built once and run often. One with expanding IN lists (which SQLAlchemy renders
per execution) runs through SQLAlchemy as usual: same rows, without the saving. Like store.bulk
on the ingest path, the driver-level path skips SQLAlchemy's cursor events; it runs on the
caller's connection, so in its transaction.
"""

from __future__ import annotations

import weakref
from collections import namedtuple
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

Process = Callable[[Any], Any]
NO_VALUES: Mapping[str, Any] = {}


def connection_of(db: Session | Connection) -> Connection:
    """The Core connection of a session (its transaction), or the connection itself."""
    return db.connection() if isinstance(db, Session) else db


@dataclass(frozen=True)
class _Plan:
    """One statement compiled for one dialect: the SQL text and how values go in and rows come out."""

    sql: str
    order: tuple[str, ...] | None  # bind names in placeholder order; None: the driver takes a dict
    constants: dict[str, Any]  # the statement's own values (e.g. literals SQLAlchemy binds), processed
    processors: dict[str, Process]  # to the driver, by bind name
    row: Callable[..., Any]  # namedtuple class of the selected columns
    decoders: tuple[tuple[int, Process], ...]  # from the driver, by column position

    def parameters(self, values: Mapping[str, Any]) -> Any:
        bound = dict(self.constants)
        for name, value in values.items():
            process = self.processors.get(name)
            bound[name] = value if process is None or value is None else process(value)
        if self.order is None:
            return bound
        return tuple([bound[name] for name in self.order])

    def make(self, raw: tuple[Any, ...]) -> Any:
        if not self.decoders:
            return self.row(*raw)
        values = list(raw)
        for index, decode in self.decoders:
            values[index] = decode(values[index])
        return self.row(*values)


def _compile(statement: Select[Any], dialect: Dialect) -> _Plan | None:
    """The plan, or None when SQLAlchemy must render the statement per execution."""
    compiled = statement.compile(dialect=dialect)
    if compiled.post_compile_params or compiled.literal_execute_params:
        return None
    processors: dict[str, Process] = {}
    constants: dict[str, Any] = {}
    for bind, name in compiled.bind_names.items():
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            processors[name] = process
        if not bind.required:
            value = bind.effective_value
            constants[name] = value if process is None or value is None else process(value)
    names = list(statement.selected_columns.keys())
    decoders = []
    for index, column in enumerate(statement.selected_columns):
        decode = column.type.dialect_impl(dialect).result_processor(dialect, None)
        if decode is not None:
            decoders.append((index, decode))
    positional = compiled.positiontup if dialect.positional else None
    return _Plan(
        sql=str(compiled),
        order=tuple(positional) if positional is not None else None,
        constants=constants,
        processors=processors,
        row=namedtuple("PreparedRow", names),  # type: ignore[misc]
        decoders=tuple(decoders),
    )


class Prepared:
    """A SELECT to run often: `Prepared(select(...)).all(session_or_connection, {"name": value})`."""

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        # By dialect object: each engine has its own (and its own JSON settings).
        self._plans: weakref.WeakKeyDictionary[Dialect, _Plan | None] = weakref.WeakKeyDictionary()

    def _plan(self, dialect: Dialect) -> _Plan | None:
        try:
            return self._plans[dialect]
        except KeyError:
            plan = self._plans[dialect] = _compile(self.statement, dialect)
            return plan

    def _run(self, db: Session | Connection, values: Mapping[str, Any], one: bool) -> list[Any]:
        connection = connection_of(db)
        plan = self._plan(connection.dialect)
        if plan is None:
            result = connection.execute(self.statement, dict(values))
            if not one:
                return list(result)
            first = result.first()
            return [] if first is None else [first]
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(plan.sql, plan.parameters(values))
            if one:
                found = cursor.fetchone()
                raw = [] if found is None else [found]
            else:
                raw = cursor.fetchall()
        finally:
            cursor.close()
        return [plan.make(row) for row in raw]

    def all(self, db: Session | Connection, values: Mapping[str, Any] = NO_VALUES) -> list[Any]:
        return self._run(db, values, one=False)

    def first(self, db: Session | Connection, values: Mapping[str, Any] = NO_VALUES) -> Any | None:
        rows = self._run(db, values, one=True)
        return rows[0] if rows else None

    def scalar(self, db: Session | Connection, values: Mapping[str, Any] = NO_VALUES) -> Any | None:
        """The first column of the first row, else None."""
        row = self.first(db, values)
        return None if row is None else row[0]
