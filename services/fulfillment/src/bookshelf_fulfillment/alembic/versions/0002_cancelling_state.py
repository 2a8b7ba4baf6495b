"""The CANCELLING state: a customer's cancel waits for shipping before stock is released.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BEFORE = ("AWAITING_STOCK", "AWAITING_SHIPMENT", "AWAITING_DISPATCH", "SHIPPED", "DELIVERED", "CANCELLED")
AFTER = (*BEFORE, "CANCELLING")


def _check(states: tuple[str, ...]) -> None:
    op.drop_constraint("ck_fulfillments_state", "fulfillments", type_="check")
    op.create_check_constraint(
        "ck_fulfillments_state", "fulfillments", "state IN (" + ", ".join(f"'{s}'" for s in states) + ")"
    )


def upgrade() -> None:
    _check(AFTER)


def downgrade() -> None:
    op.execute("UPDATE fulfillments SET state = 'AWAITING_DISPATCH' WHERE state = 'CANCELLING'")
    _check(BEFORE)
