"""orders.access_token_hash: the SHA-256 of each order's access token (the token is never stored).

Orders placed before this migration have no hash: only the staff token reads or cancels them.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE orders ADD COLUMN IF NOT EXISTS access_token_hash text")


def downgrade() -> None:
    op.drop_column("orders", "access_token_hash")
