"""The SQL store: SQLModel tables, engine and sessions, Alembic migrations applied on open.

store = open_store("sqlite:///var/quaysync.db")   # or postgresql://...
with store.session() as session: ...               # commits on success, rolls back on error
"""

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
