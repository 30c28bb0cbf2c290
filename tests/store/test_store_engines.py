"""The store on SQLite and PostgreSQL: migrations, the schema matching the models, engine settings."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import SQLModel

from store import ContainerStatusRow, Store, open_store
from store.bulk import insert_many, rows_where_in, update_by_key


def test_migrations_bring_an_empty_database_to_every_head(any_store: Store) -> None:
    assert any_store.current_revisions() == any_store.expected_revisions()
    assert any_store.is_migrated()


def test_the_migrated_schema_matches_the_models(any_store: Store) -> None:
    """Every room's tables and columns are created by a migration (no model without one)."""
    with any_store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []


def test_opening_again_is_idempotent(store_url: str) -> None:
    open_store(store_url).dispose()
    again = open_store(store_url)
    try:
        assert again.is_migrated()
    finally:
        again.dispose()


def test_sqlite_runs_in_wal_mode(sqlite_store: Store) -> None:
    with sqlite_store.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_utc_moments_round_trip_through_both_paths(any_store: Store) -> None:
    """Rows written by the ORM and by the bulk driver path read back identically."""
    moment = datetime(2026, 11, 20, 14, 30, 15, 123456, tzinfo=UTC)
    with any_store.session() as session:
        session.add(
            ContainerStatusRow(
                container_number="MSKU1234565",
                first_seen_at=moment,
                last_observed_at=moment,
                updated_at=moment,
                last_free_day=date(2026, 11, 25),
                available=True,
                holds={"customs": "hold"},
            )
        )
        row = {
            "container_number": "TGHU6961213",
            "lifecycle": "UNKNOWN",
            "lifecycle_rank": 0,
            "first_seen_at": moment,
            "last_observed_at": moment + timedelta(hours=1),
            "updated_at": moment,
            "last_free_day": date(2026, 11, 26),
            "available": False,
            "holds": {"customs": "released"},
            "fees": {},
            "freshness": {},
            "field_sources": {},
            "disagreements": {},
            "not_found": {},
            "tracking": "active",
        }
        insert_many(session, ContainerStatusRow.__table__, [row])
    table = ContainerStatusRow.__table__
    columns = (
        table.c.container_number,
        table.c.last_observed_at,
        table.c.last_free_day,
        table.c.available,
        table.c.holds,
    )
    with any_store.session() as session:
        fast = {
            r["container_number"]: r
            for r in rows_where_in(session, columns, table.c.container_number, ["MSKU1234565", "TGHU6961213"])
        }
        orm = session.get(ContainerStatusRow, "TGHU6961213")
    assert fast["MSKU1234565"]["last_observed_at"] == moment
    assert fast["MSKU1234565"]["last_free_day"] == date(2026, 11, 25)
    assert fast["MSKU1234565"]["available"] is True and fast["MSKU1234565"]["holds"] == {"customs": "hold"}
    assert orm is not None and orm.last_observed_at == moment + timedelta(hours=1)
    assert (orm.last_free_day, orm.available, orm.holds) == (
        date(2026, 11, 26),
        False,
        {"customs": "released"},
    )
    later = moment + timedelta(days=1)
    with any_store.session() as session:
        update_by_key(
            session,
            table,
            "container_number",
            [{"container_number": "MSKU1234565", "last_observed_at": later}],
        )
    with any_store.session() as session:
        updated = session.get(ContainerStatusRow, "MSKU1234565")
        assert updated is not None and updated.last_observed_at == later


def test_sqlite_reads_events_by_container_through_the_container_index(sqlite_store: Store) -> None:
    """Without statistics SQLite's planner picks an index by its shape: an index on a column of a
    few values (event_code) looked selective, and every read of a batch's events scanned all the
    milestone events of the store (0006, 0007). Each read of events by container, as the rules
    make them after every ingest, must go through ix_event_container_at."""
    from sync.rules.facts import load_facts

    statements: list[str] = []
    numbers = ["MSKU1234565", "TGHU6961213"]
    with sqlite_store.session() as session:
        connection = session.connection().connection.driver_connection
        connection.set_trace_callback(statements.append)
        try:
            load_facts(session, [{"container_number": number, "freshness": {}} for number in numbers])
        finally:
            connection.set_trace_callback(None)
        by_container = [
            statement
            for statement in statements
            if statement.startswith("SELECT") and " FROM event WHERE container_number IN (" in statement
        ]
        assert by_container, statements
        for statement in by_container:
            plan = " | ".join(row[-1] for row in connection.execute(f"EXPLAIN QUERY PLAN {statement}"))
            assert "ix_event_container_at" in plan, f"{plan}\n{statement}"
