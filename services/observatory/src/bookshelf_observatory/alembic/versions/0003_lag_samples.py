"""Lag samples per consumer group for the dashboard's 15-minute charts (kept about 15 minutes).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lag_samples",
        sa.Column("at", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("group_id", sa.Text, primary_key=True),
        sa.Column("records", sa.BigInteger, nullable=False),
        sa.Column("seconds", sa.Float, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("lag_samples")
