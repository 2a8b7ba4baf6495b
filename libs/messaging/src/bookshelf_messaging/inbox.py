"""The inbox table: one row per (consumer group, message id) a consumer has handled.

The consumer runner inserts the rows in the handler's own transaction, so a redelivered message
(after a crash, a rebalance or a relay re-publish) finds its row and is skipped.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

INBOX_TABLE = "inbox"

# A message a consumer group has handled (primary key: group and message id). SQLAlchemy Core, like
# every table of the services (docs/adr/0012-sqlalchemy-core-for-every-table.md).
inbox_table = sa.Table(
    INBOX_TABLE,
    sa.MetaData(),
    sa.Column("consumer_group", sa.Text, primary_key=True),
    sa.Column("message_id", sa.Uuid, primary_key=True),
    sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    # BRIN: rows arrive in processed_at order, so a tiny index serves the retention delete.
    sa.Index("ix_inbox_processed_at", "processed_at", postgresql_using="brin"),
)


# One statement per partition batch: unnest keeps the SQL text (and its prepared statement) the same
# whatever the batch size, and RETURNING tells which ids are new.
CLAIM_SQL = sa.text(
    "INSERT INTO inbox (consumer_group, message_id) "
    "SELECT :group, unnest(CAST(:ids AS uuid[])) "
    "ON CONFLICT DO NOTHING RETURNING message_id"
)

_PURGE_SQL = sa.text(
    "DELETE FROM inbox WHERE ctid IN (SELECT ctid FROM inbox WHERE consumer_group = :group "
    "AND processed_at < now() - CAST(:age AS interval) LIMIT :chunk)"
)


async def purge_inbox(conn: Any, group: str, *, older_than: timedelta, chunk: int = 10_000) -> int:
    """Delete a group's inbox rows older than ``older_than`` in chunks; returns how many.

    ``conn`` is a SQLAlchemy AsyncConnection or AsyncSession (each chunk commits with its caller).
    Keep ``older_than`` well above any redelivery window (relay re-publishes, rebalances): a message
    seen again after its row is gone would be handled again.
    """
    total = 0
    while True:
        result = await conn.execute(_PURGE_SQL, {"group": group, "age": older_than, "chunk": chunk})
        deleted = int(result.rowcount or 0)
        total += deleted
        if deleted < chunk:
            return total
