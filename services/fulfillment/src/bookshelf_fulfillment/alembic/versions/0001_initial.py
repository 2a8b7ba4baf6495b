"""Saga instances with their deadline, their history, and the messaging outbox/inbox.

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

STATES = ("AWAITING_STOCK", "AWAITING_SHIPMENT", "AWAITING_DISPATCH", "SHIPPED", "DELIVERED", "CANCELLED")


def upgrade() -> None:
    op.create_table(
        "fulfillments",
        sa.Column("order_id", sa.Uuid, primary_key=True),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("correlation_id", sa.Text, nullable=False),
        sa.Column("lines", JSONB, nullable=False),
        sa.Column("address", JSONB, nullable=False),
        sa.Column("reserve_requested", sa.Boolean, nullable=False),
        sa.Column("reserved", sa.Boolean, nullable=False),
        sa.Column("shipment_requested", sa.Boolean, nullable=False),
        sa.Column("shipment_id", sa.Uuid, nullable=True),
        sa.Column("tracking_number", sa.Text, nullable=True),
        sa.Column("cancel_reason", sa.Text, nullable=True),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deadline_set_by", sa.Text, nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN (" + ", ".join(f"'{s}'" for s in STATES) + ")", name="ck_fulfillments_state"
        ),
    )
    op.create_index(
        "ix_fulfillments_deadline", "fulfillments", ["deadline"], postgresql_where=sa.text("deadline IS NOT NULL")
    )
    op.create_index("ix_fulfillments_created_at", "fulfillments", ["created_at", "order_id"])
    op.create_index("ix_fulfillments_state_created_at", "fulfillments", ["state", "created_at", "order_id"])
    op.create_table(
        "fulfillment_history",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column(
            "order_id",
            sa.Uuid,
            sa.ForeignKey("fulfillments.order_id", ondelete="CASCADE", name="fk_fulfillment_history_order"),
            nullable=False,
        ),
        sa.Column("message_id", sa.Text, nullable=False),
        sa.Column("event", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.Text, nullable=False),
    )
    op.create_index("ix_fulfillment_history_order_id", "fulfillment_history", ["order_id", "id"])
    create_messaging_schema(op)


def downgrade() -> None:
    drop_messaging_schema(op)
    op.drop_index("ix_fulfillment_history_order_id", table_name="fulfillment_history")
    op.drop_table("fulfillment_history")
    op.drop_index("ix_fulfillments_state_created_at", table_name="fulfillments")
    op.drop_index("ix_fulfillments_created_at", table_name="fulfillments")
    op.drop_index("ix_fulfillments_deadline", table_name="fulfillments")
    op.drop_table("fulfillments")
