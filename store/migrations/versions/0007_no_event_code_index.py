"""event: no index on event_code

A handful of codes over every event: without statistics SQLite's planner took
"event_code IN (...)" for the selective term and, for the rules' reads by container
(container_number IN (...) AND event_code IN (...)), scanned every milestone event of the store
on each ingest batch, so scraping slowed as the store grew. Nothing looks events up by code
alone, and one index fewer on the largest table makes every ingest cheaper.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 19:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_index("ix_event_event_code")


def downgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.create_index("ix_event_event_code", ["event_code"], unique=False)
