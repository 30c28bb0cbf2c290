"""Alembic environment: runs on the connection the store hands over (see store.engine.Store.migrate)."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import store  # noqa: F401  (imports every store/tables*.py, registering the tables on SQLModel.metadata)

target_metadata = SQLModel.metadata


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        engine = context.config.attributes.get("engine")
        if engine is None:
            raise RuntimeError("run migrations through store.open_store(...).migrate()")
        with engine.begin() as connection:
            _run(connection)
    else:
        _run(connection)


def _run(connection: object) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
