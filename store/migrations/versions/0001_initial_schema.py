"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22 06:59:36.661650
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import store.types

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("rule", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("dedupe_key", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("light", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("context", store.types.JSONDocument, nullable=False),
        sa.Column("created_at", store.types.UTCDateTime(), nullable=False),
        sa.Column("resolved_at", store.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key", name="uq_alert_dedupe"),
    )
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_rule"), ["rule"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_subject"), ["subject"], unique=False)

    op.create_table(
        "container_status",
        sa.Column("container_number", sqlmodel.sql.sqltypes.AutoString(length=11), nullable=False),
        sa.Column("lifecycle", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("lifecycle_rank", sa.Integer(), nullable=False),
        sa.Column("lifecycle_at", store.types.UTCDateTime(), nullable=True),
        sa.Column("available", sa.Boolean(), nullable=True),
        sa.Column("holds", store.types.JSONDocument, nullable=False),
        sa.Column("last_free_day", sa.Date(), nullable=True),
        sa.Column("line_last_free_day", sa.Date(), nullable=True),
        sa.Column("fees", store.types.JSONDocument, nullable=False),
        sa.Column("yard_location", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("appointment_at", store.types.UTCDateTime(), nullable=True),
        sa.Column("bill_of_lading", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("carrier", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("size_type", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("vessel_name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("voyage", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("vessel_eta", store.types.UTCDateTime(), nullable=True),
        sa.Column("vessel_ata", store.types.UTCDateTime(), nullable=True),
        sa.Column("terminal", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("time_zone", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("traffic_light", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True),
        sa.Column("light_rule", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("light_reason", sa.Text(), nullable=True),
        sa.Column("freshness", store.types.JSONDocument, nullable=False),
        sa.Column("field_sources", store.types.JSONDocument, nullable=False),
        sa.Column("disagreements", store.types.JSONDocument, nullable=False),
        sa.Column("not_found", store.types.JSONDocument, nullable=False),
        sa.Column("tracking", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("first_seen_at", store.types.UTCDateTime(), nullable=False),
        sa.Column("last_observed_at", store.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", store.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("container_number"),
    )
    with op.batch_alter_table("container_status", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_container_status_bill_of_lading"), ["bill_of_lading"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_container_status_lifecycle"), ["lifecycle"], unique=False)
        batch_op.create_index(batch_op.f("ix_container_status_terminal"), ["terminal"], unique=False)
        batch_op.create_index(batch_op.f("ix_container_status_tracking"), ["tracking"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_container_status_traffic_light"), ["traffic_light"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_container_status_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("natural_key", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("version_hash", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("event_type", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("event_code", sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
        sa.Column("classifier", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("event_at", store.types.UTCDateTime(), nullable=False),
        sa.Column("time_zone", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("timed", sa.Boolean(), nullable=False),
        sa.Column("container_number", sqlmodel.sql.sqltypes.AutoString(length=11), nullable=True),
        sa.Column("bill_of_lading", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("location_code", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True),
        sa.Column("facility", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("vessel_name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("voyage", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("empty_indicator", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True),
        sa.Column("details", store.types.JSONDocument, nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("observation_id", sa.Integer(), nullable=True),
        sa.Column("observed_at", store.types.UTCDateTime(), nullable=False),
        sa.Column("superseded_by", sa.Integer(), nullable=True),
        sa.Column("created_at", store.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
        sa.UniqueConstraint("natural_key", "version_hash", name="uq_event_version"),
    )
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_event_bill_of_lading"), ["bill_of_lading"], unique=False)
        batch_op.create_index("ix_event_container_at", ["container_number", "event_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_event_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_event_event_code"), ["event_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_event_natural_key"), ["natural_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_event_observation_id"), ["observation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_event_superseded_by"), ["superseded_by"], unique=False)

    op.create_table(
        "observation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("content_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("source_ref", sa.Text(), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("subject_key", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("observed_at", store.types.UTCDateTime(), nullable=False),
        sa.Column("last_observed_at", store.types.UTCDateTime(), nullable=False),
        sa.Column("parser", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("time_zone", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("fields", store.types.JSONDocument, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("created_at", store.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("content_hash"),
    )
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_observation_run_id"), ["run_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_observation_source"), ["source"], unique=False)
        batch_op.create_index(batch_op.f("ix_observation_subject_key"), ["subject_key"], unique=False)

    op.create_table(
        "order_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_ref", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("bill_of_lading", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("container_number", sqlmodel.sql.sqltypes.AutoString(length=11), nullable=False),
        sa.Column("customer", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("created_at", store.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("order_ref", "bill_of_lading", "container_number", name="uq_order_link"),
    )
    with op.batch_alter_table("order_link", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_link_bill_of_lading"), ["bill_of_lading"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_order_link_container_number"), ["container_number"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_order_link_customer"), ["customer"], unique=False)
        batch_op.create_index(batch_op.f("ix_order_link_order_ref"), ["order_ref"], unique=False)

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("destination", sa.Text(), nullable=False),
        sa.Column("payload", store.types.JSONDocument, nullable=False),
        sa.Column("dedupe_key", sa.String(length=300), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", store.types.UTCDateTime(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("created_at", store.types.UTCDateTime(), nullable=False),
        sa.Column("sent_at", store.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key", name="uq_outbox_dedupe"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_alert_id"), ["alert_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_channel"), ["channel"], unique=False)
        batch_op.create_index("ix_outbox_due", ["state", "next_attempt_at"], unique=False)

    op.create_table(
        "problem",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("source_ref", sa.Text(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("subject_key", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("raw", store.types.JSONDocument, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("created_at", store.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("problem", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_problem_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_problem_run_id"), ["run_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_problem_source"), ["source"], unique=False)
        batch_op.create_index(batch_op.f("ix_problem_subject_key"), ["subject_key"], unique=False)

    op.create_table(
        "run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("trigger", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("started_at", store.types.UTCDateTime(), nullable=False),
        sa.Column("ended_at", store.types.UTCDateTime(), nullable=True),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("counts", store.types.JSONDocument, nullable=False),
        sa.Column("errors", store.types.JSONDocument, nullable=False),
        sa.Column("evidence", store.types.JSONDocument, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_run_outcome"), ["outcome"], unique=False)
        batch_op.create_index(batch_op.f("ix_run_source"), ["source"], unique=False)
        batch_op.create_index(batch_op.f("ix_run_started_at"), ["started_at"], unique=False)

    op.create_table(
        "shipment",
        sa.Column("bill_of_lading", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("carrier", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("customer", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("vessel_name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("voyage", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("port_of_loading", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("port_of_discharge", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("updated_at", store.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("bill_of_lading"),
    )
    with op.batch_alter_table("shipment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shipment_customer"), ["customer"], unique=False)

    op.create_table(
        "source_state",
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("value", store.types.JSONDocument, nullable=False),
        sa.Column("updated_at", store.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("source", "key"),
    )
    op.create_table(
        "vessel_call",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vessel_name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("voyage", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("facility", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("location_code", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True),
        sa.Column("eta", store.types.UTCDateTime(), nullable=True),
        sa.Column("ata", store.types.UTCDateTime(), nullable=True),
        sa.Column("etd", store.types.UTCDateTime(), nullable=True),
        sa.Column("atd", store.types.UTCDateTime(), nullable=True),
        sa.Column("berth", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("time_zone", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("field_sources", store.types.JSONDocument, nullable=False),
        sa.Column("freshness", store.types.JSONDocument, nullable=False),
        sa.Column("updated_at", store.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("vessel_name", "voyage", "facility", name="uq_vessel_call"),
    )


def downgrade() -> None:

    op.drop_table("vessel_call")
    op.drop_table("source_state")
    with op.batch_alter_table("shipment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shipment_customer"))

    op.drop_table("shipment")
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_run_started_at"))
        batch_op.drop_index(batch_op.f("ix_run_source"))
        batch_op.drop_index(batch_op.f("ix_run_outcome"))

    op.drop_table("run")
    with op.batch_alter_table("problem", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_problem_subject_key"))
        batch_op.drop_index(batch_op.f("ix_problem_source"))
        batch_op.drop_index(batch_op.f("ix_problem_run_id"))
        batch_op.drop_index(batch_op.f("ix_problem_created_at"))

    op.drop_table("problem")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_due")
        batch_op.drop_index(batch_op.f("ix_outbox_channel"))
        batch_op.drop_index(batch_op.f("ix_outbox_alert_id"))

    op.drop_table("outbox")
    with op.batch_alter_table("order_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_link_order_ref"))
        batch_op.drop_index(batch_op.f("ix_order_link_customer"))
        batch_op.drop_index(batch_op.f("ix_order_link_container_number"))
        batch_op.drop_index(batch_op.f("ix_order_link_bill_of_lading"))

    op.drop_table("order_link")
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_observation_subject_key"))
        batch_op.drop_index(batch_op.f("ix_observation_source"))
        batch_op.drop_index(batch_op.f("ix_observation_run_id"))

    op.drop_table("observation")
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_superseded_by"))
        batch_op.drop_index(batch_op.f("ix_event_observation_id"))
        batch_op.drop_index(batch_op.f("ix_event_natural_key"))
        batch_op.drop_index(batch_op.f("ix_event_event_code"))
        batch_op.drop_index(batch_op.f("ix_event_created_at"))
        batch_op.drop_index("ix_event_container_at")
        batch_op.drop_index(batch_op.f("ix_event_bill_of_lading"))

    op.drop_table("event")
    with op.batch_alter_table("container_status", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_container_status_updated_at"))
        batch_op.drop_index(batch_op.f("ix_container_status_traffic_light"))
        batch_op.drop_index(batch_op.f("ix_container_status_tracking"))
        batch_op.drop_index(batch_op.f("ix_container_status_terminal"))
        batch_op.drop_index(batch_op.f("ix_container_status_lifecycle"))
        batch_op.drop_index(batch_op.f("ix_container_status_bill_of_lading"))

    op.drop_table("container_status")
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_subject"))
        batch_op.drop_index(batch_op.f("ix_alert_state"))
        batch_op.drop_index(batch_op.f("ix_alert_rule"))
        batch_op.drop_index(batch_op.f("ix_alert_created_at"))

    op.drop_table("alert")
