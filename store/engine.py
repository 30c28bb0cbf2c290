"""Engine and sessions: SQLite in WAL mode by default, PostgreSQL by URL; migrations on open."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class StoreError(RuntimeError):
    """The store cannot be opened, or is not at the schema this code expects."""


def normalize_url(url: str) -> str:
    """`postgresql://` means psycopg 3 (the driver we ship), not psycopg2."""
    return re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", url)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the API read while a bot or a mail poll writes; NORMAL is safe with WAL.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    # 16 MB of page cache instead of SQLite's 2 MB: a batch's inserts land at random places of
    # the hash-keyed indexes, and with 2 MB most of them read a page back (a fifth of the time
    # of a large ingest). The cache grows only as a connection uses it.
    cursor.execute("PRAGMA cache_size=-16384")
    cursor.close()


def _json_dumps(document: Any) -> str:
    return orjson.dumps(document, option=orjson.OPT_NON_STR_KEYS).decode()


def create_store_engine(url: str, **options: Any) -> Engine:
    url = normalize_url(url)
    # JSON columns are read and written on every merge; orjson is ~10x faster than json here.
    options.setdefault("json_serializer", _json_dumps)
    options.setdefault("json_deserializer", orjson.loads)
    if url.startswith("sqlite"):
        match = re.match(r"^sqlite(\+\w+)?:///(.+)$", url)
        if match and match.group(2) != ":memory:":
            Path(match.group(2)).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10}, **options)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, **options)


def alembic_config(engine: Engine | None = None) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


class Store:
    """An opened store: `store.session()` gives a transaction that commits on success."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def session(self) -> Iterator[Session]:
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def migrate(self) -> None:
        """Bring the schema to the newest revision (all heads)."""
        with self.engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "heads")

    def current_revisions(self) -> set[str]:
        with self.engine.connect() as connection:
            return set(MigrationContext.configure(connection).get_current_heads())

    def expected_revisions(self) -> set[str]:
        return set(ScriptDirectory.from_config(alembic_config()).get_heads())

    def is_migrated(self) -> bool:
        return self.current_revisions() == self.expected_revisions()

    def dispose(self) -> None:
        self.engine.dispose()


def open_store(url: str, *, migrate: bool = True, **engine_options: Any) -> Store:
    """Open (and by default migrate) the store at `url`."""
    store = Store(create_store_engine(url, **engine_options))
    if migrate:
        try:
            store.migrate()
        except Exception as error:
            store.dispose()
            raise StoreError(f"cannot migrate the store at {store.url}: {error}") from error
    return store
