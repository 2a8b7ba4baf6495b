"""Shipments, refusals, and the messaging outbox/inbox.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from bookshelf_messaging.schema import create_messaging_schema, drop_messaging_schema
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shipments",
        sa.Column("shipment_id", sa.Uuid, primary_key=True),
        sa.Column("order_id", sa.Uuid, nullable=False),
        sa.Column("tracking_number", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("address", JSONB, nullable=False),
        sa.Column("lines", JSONB, nullable=False),
        sa.Column("history", JSONB, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("order_id", name="uq_shipments_order_id"),
        sa.UniqueConstraint("tracking_number", name="uq_shipments_tracking_number"),
        sa.CheckConstraint(
            "status IN ('CREATED', 'DISPATCHED', 'DELIVERED', 'CANCELLED')", name="ck_shipments_status"
        ),
    )
    op.create_index("ix_shipments_created_at", "shipments", ["created_at"])
    op.create_table(
        "shipment_refusals",
        sa.Column("order_id", sa.Uuid, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("refused_at", sa.DateTime(timezone=True), nullable=False),
    )
    create_messaging_schema(op)


def downgrade() -> None:
    drop_messaging_schema(op)
    op.drop_table("shipment_refusals")
    op.drop_index("ix_shipments_created_at", table_name="shipments")
    op.drop_table("shipments")
