"""storefront_view.visible_xid: the transaction that made a row visible, for exact cheap totals.

A StorefrontView row becomes visible once (its first BookAdded) and never disappears, so the number of
visible rows is a count fixed for every transaction older than a snapshot's xmin plus the rows made
visible since (an index range on visible_xid). See adapters/counting.py. Rows without a value
(written before this column existed) count as old.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _table() -> str:
    generation = op.get_bind().scalar(
        sa.text("SELECT generation FROM read_model_generations WHERE name = 'storefront'")
    )
    return f"storefront_view_g{int(generation or 1)}"


def upgrade() -> None:
    table = _table()
    op.execute(f"ALTER TABLE {table} ADD COLUMN visible_xid xid8")
    op.execute(f"CREATE INDEX ix_{table}_visible_xid ON {table} (visible_xid) WHERE details_version > 0")
    op.execute(f"CREATE OR REPLACE VIEW storefront_view AS SELECT * FROM {table}")


def downgrade() -> None:
    table = _table()
    op.execute("DROP VIEW storefront_view")
    op.execute(f"ALTER TABLE {table} DROP COLUMN visible_xid")
    op.execute(f"CREATE VIEW storefront_view AS SELECT * FROM {table}")
