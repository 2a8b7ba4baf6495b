"""The W3C trace id of each indexed record (from its ``traceparent`` header), to link a tracing UI.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable, no default: adding it is a catalog change only, whatever the size of the index.
    op.add_column("messages", sa.Column("trace_id", sa.Text, nullable=True))


def downgrade() -> None:
    op.drop_column("messages", "trace_id")
