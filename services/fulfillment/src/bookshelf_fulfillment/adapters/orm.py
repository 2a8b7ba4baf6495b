"""The saga's tables (SQLAlchemy Core). The outbox and inbox come from bookshelf_messaging.

``fulfillments`` holds one row per saga instance (per order), ``fulfillment_history`` one row per
message the instance handled. The deadline is a column with a partial index: the timer finds the
expired instances with an index scan and claims them with ``FOR UPDATE SKIP LOCKED``.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from bookshelf_fulfillment.domain.state import SagaStatus

metadata = sa.MetaData()

fulfillments = sa.Table(
    "fulfillments",
    metadata,
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
        "state IN (" + ", ".join(f"'{s.value}'" for s in SagaStatus) + ")", name="ck_fulfillments_state"
    ),
    # Only instances that wait have a deadline: the index stays as small as the open sagas.
    sa.Index("ix_fulfillments_deadline", "deadline", postgresql_where=sa.text("deadline IS NOT NULL")),
    sa.Index("ix_fulfillments_created_at", "created_at", "order_id"),
    sa.Index("ix_fulfillments_state_created_at", "state", "created_at", "order_id"),
)

fulfillment_history = sa.Table(
    "fulfillment_history",
    metadata,
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
    sa.Index("ix_fulfillment_history_order_id", "order_id", "id"),
)
