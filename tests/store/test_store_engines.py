"""The store on SQLite and PostgreSQL: migrations, the schema matching the models, engine settings,
the bulk helpers."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, text
from sqlmodel import SQLModel

from store import ContainerStatusRow, ObservationRow, Store, open_store
from store.bulk import insert_many, insert_with_ids, rows_where_in, update_by_key


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


def test_sqlite_reads_rows_by_their_key_through_the_key_index(sqlite_store: Store) -> None:
    """Without statistics SQLite's planner picks an index by its shape: an index on a column of a
    few values (event_code; container_number = '' on order links) looked selective, and a read of
    a batch's rows scanned all the rows of that value in the store, so each ingest got slower as
    the store grew (0006, 0007). Every `rows_where_in` read the rules make after an ingest must
    go through the index of its key."""
    from sync.rules.facts import load_facts

    statements: list[str] = []
    statuses = [
        {"container_number": number, "bill_of_lading": "MAEU123456789", "freshness": {}}
        for number in ("MSKU1234565", "TGHU6961213")
    ]
    with sqlite_store.session() as session:
        connection = session.connection().connection.driver_connection
        connection.set_trace_callback(statements.append)
        try:
            load_facts(session, statuses)
        finally:
            connection.set_trace_callback(None)
        keyed = [
            (statement, match.group(1), match.group(2))
            for statement in statements
            if (match := re.match(r"SELECT .* FROM (\w+) WHERE (\w+) IN \(", statement))
        ]
        assert {(table, key) for _statement, table, key in keyed} >= {
            ("event", "container_number"),
            ("order_link", "container_number"),
            ("order_link", "bill_of_lading"),
        }, statements
        for statement, table, key in keyed:
            plan = " | ".join(row[-1] for row in connection.execute(f"EXPLAIN QUERY PLAN {statement}"))
            assert f"({key}=?)" in plan, f"{table} by {key}: {plan}\n{statement}"


def _observation_rows(count: int, start: int = 0) -> list[dict[str, object]]:
    moment = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    # not in key order: the ids must follow the rows, not the keys
    return [
        {
            "content_hash": f"{(index * 7919) % 10007:064x}",
            "source": "portal:test",
            "source_ref": f"test://{index}",
            "subject": "container",
            "observed_at": moment,
            "last_observed_at": moment,
            "parser": "test/1",
            "fields": {"container_no": "MSKU1234565", "row": index},
            "created_at": moment,
        }
        for index in range(start, start + count)
    ]


def _stored_ids(store: Store) -> dict[str, int]:
    table = ObservationRow.__table__
    with store.session() as session:
        rows = session.execute(select(table.c.id, table.c.content_hash))
        return {content_hash: row_id for row_id, content_hash in rows}


def test_inserted_rows_get_their_own_ids_in_their_order(any_store: Store) -> None:
    table = ObservationRow.__table__
    first, second = _observation_rows(700), _observation_rows(40, start=700)  # more than one read chunk
    with any_store.session() as session:
        first_ids = insert_with_ids(session, table, first, ("content_hash",))
    with any_store.session() as session:
        second_ids = insert_with_ids(session, table, second, ("content_hash",))
        assert insert_with_ids(session, table, [], ("content_hash",)) == []
    stored = _stored_ids(any_store)
    assert first_ids + second_ids == [stored[str(row["content_hash"])] for row in first + second]
    assert len(set(first_ids + second_ids)) == 740


def test_ids_are_read_back_where_sqlite_numbers_new_rows_at_random(sqlite_store: Store) -> None:
    """Once a table held the largest rowid, SQLite picks new rowids at random: not a run."""
    table = ObservationRow.__table__
    with sqlite_store.session() as session:
        insert_many(session, table, [{**_observation_rows(1, start=5000)[0], "id": 2**63 - 1}])
    rows = _observation_rows(60)
    with sqlite_store.session() as session:
        ids = insert_with_ids(session, table, rows, ("content_hash",))
    stored = _stored_ids(sqlite_store)
    assert ids == [stored[str(row["content_hash"])] for row in rows]
    assert ids != list(range(ids[-1] - 59, ids[-1] + 1))
