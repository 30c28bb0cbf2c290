"""The SQL store: SQLModel tables, engine and sessions, Alembic migrations applied on open.

store = open_store("sqlite:///var/quaysync.db")   # or postgresql://...
with store.session() as session: ...               # commits on success, rolls back on error
"""

import importlib as _importlib
import pkgutil as _pkgutil

from store.engine import Store, StoreError, create_store_engine, normalize_url, open_store
from store.tables import (
    ALL_TABLES,
    AlertRow,
    ContainerStatusRow,
    EventRow,
    ObservationRow,
    OrderLinkRow,
    OutboxRow,
    ProblemRow,
    RunRow,
    ShipmentRow,
    SourceStateRow,
    VesselCallRow,
)

__all__ = [
    "ALL_TABLES",
    "AlertRow",
    "ContainerStatusRow",
    "EventRow",
    "ObservationRow",
    "OrderLinkRow",
    "OutboxRow",
    "ProblemRow",
    "RunRow",
    "ShipmentRow",
    "SourceStateRow",
    "Store",
    "StoreError",
    "VesselCallRow",
    "create_store_engine",
    "normalize_url",
    "open_store",
]

# Rooms keep their own tables in store/tables_<room>.py; import them all so that every table is
# registered for migrations and queries, whoever imports the store first.
for _module in _pkgutil.iter_modules(__path__):
    if _module.name.startswith("tables_"):
        _importlib.import_module(f"store.{_module.name}")
