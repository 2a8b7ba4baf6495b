"""The shipping tables (SQLAlchemy Core). The outbox and inbox come from bookshelf_messaging."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData()

ORDER_CONSTRAINT = "uq_shipments_order_id"
TRACKING_CONSTRAINT = "uq_shipments_tracking_number"
STATUSES = ("CREATED", "DISPATCHED", "DELIVERED", "CANCELLED")

shipments = sa.Table(
    "shipments",
    metadata,
    sa.Column("shipment_id", sa.Uuid, primary_key=True),
    sa.Column("order_id", sa.Uuid, nullable=False),
    sa.Column("tracking_number", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("address", JSONB, nullable=False),
    sa.Column("lines", JSONB, nullable=False),
    # [{"status", "at", "reason"}]: a handful of entries per shipment, read and written with it.
    sa.Column("history", JSONB, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    # One shipment per order, and tracking numbers unique: the database is the last word on both.
    sa.UniqueConstraint("order_id", name=ORDER_CONSTRAINT),
    sa.UniqueConstraint("tracking_number", name=TRACKING_CONSTRAINT),
    sa.CheckConstraint(
        "status IN (" + ", ".join(f"'{s}'" for s in STATUSES) + ")", name="ck_shipments_status"
    ),
    sa.Index("ix_shipments_created_at", "created_at"),
)

# Orders that got no shipment (undeliverable, or cancelled before one was created), so a repeated
# CreateShipment answers the same ShipmentFailed even if SHIPPING_COUNTRIES changed meanwhile.
shipment_refusals = sa.Table(
    "shipment_refusals",
    metadata,
    sa.Column("order_id", sa.Uuid, primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("refused_at", sa.DateTime(timezone=True), nullable=False),
)
