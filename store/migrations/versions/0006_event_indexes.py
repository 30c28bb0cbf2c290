"""event indexes: superseded_by only where set; no natural_key index beside uq_event_version

A full index on superseded_by (NULL for nearly every row) led SQLite's planner, without
statistics, to read "superseded_by IS NULL" as selective and scan every current event for
queries by container — ingest got slower as the store grew. natural_key lookups use the
unique (natural_key, version_hash) constraint's index.

Revision ID: 0006
Revises: 0001
Create Date: 2026-12-03 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SET = sa.text("superseded_by IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_index("ix_event_superseded_by")
        batch_op.drop_index("ix_event_natural_key")
        batch_op.create_index(
            "ix_event_superseded", ["superseded_by"], unique=False, sqlite_where=_SET, postgresql_where=_SET
        )


def downgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_index("ix_event_superseded")
        batch_op.create_index("ix_event_natural_key", ["natural_key"], unique=False)
        batch_op.create_index("ix_event_superseded_by", ["superseded_by"], unique=False)
