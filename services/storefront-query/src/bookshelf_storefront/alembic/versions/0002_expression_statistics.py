"""Extended statistics on lower(author) and the trigram expression of storefront_view.

PostgreSQL ignores the statistics of partial expression indexes when estimating selectivity, so
``lower(author) = 'x'`` was estimated at 0.5% of the table and ``ORDER BY title LIMIT 20`` walked the
whole title index looking for 20 matches (seconds at 100,000 books). Expression statistics give the
planner the real distribution; later generations copy them (``LIKE ... INCLUDING ALL``).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

STATISTICS = {
    "author_lower": "(lower(author))",
    "grams": "((sf_grams('t', title) || sf_grams('a', author)))",
}


def _table() -> str:
    generation = op.get_bind().scalar(
        sa.text("SELECT generation FROM read_model_generations WHERE name = 'storefront'")
    )
    return f"storefront_view_g{int(generation or 1)}"


def upgrade() -> None:
    table = _table()
    for name, expression in STATISTICS.items():
        op.execute(f"CREATE STATISTICS IF NOT EXISTS st_{table}_{name} ON {expression} FROM {table}")
    op.execute(f"ANALYZE {table}")


def downgrade() -> None:
    table = _table()
    for name in STATISTICS:
        op.execute(f"DROP STATISTICS IF EXISTS st_{table}_{name}")
