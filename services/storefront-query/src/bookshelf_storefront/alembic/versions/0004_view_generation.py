"""sf_view_generation(view): the generation a read-model view shows, read from the view itself.

The views are the source of truth (``read_model_generations`` is a registry for people and can be
emptied by ``bookshelf db truncate``); the rebuild and the cached totals use this function.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """CREATE OR REPLACE FUNCTION sf_view_generation(view regclass) RETURNS integer
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CAST((regexp_match(pg_get_viewdef(view), 'FROM\\s+(?:\\w+\\.)?\\w+?_g([0-9]+)\\M'))[1] AS integer)
$$"""
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION sf_view_generation(regclass)")
