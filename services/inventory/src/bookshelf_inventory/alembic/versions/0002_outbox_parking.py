"""outbox.parked_at, outbox.parked_error: rows the broker refused for good, set aside by the relay.

The relay parks a row the broker will never take (too large, invalid) instead of dying on it, and
keeps publishing the rows after it; ``bookshelf outbox parked|retry|drop`` shows and handles them.
A database whose first migration ran with this code already has the columns (that migration builds
the outbox from the current model), so both steps use IF [NOT] EXISTS.

Revision ID: 0002
Revises: 0001
"""

from alembic import op
from bookshelf_messaging.schema import add_outbox_parking, drop_outbox_parking

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_outbox_parking(op)


def downgrade() -> None:
    drop_outbox_parking(op)
