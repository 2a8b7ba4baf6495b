"""Parked outbox rows: what the broker refused for good, for an operator to retry or drop.

The relay parks a row when ``produce()`` refuses it (too large for ``message.max.bytes``, a header
librdkafka cannot take) or its delivery report says the broker never will take it (too large for the
topic, an invalid record): ``parked_at`` and ``parked_error`` are set and the relay skips the row, so
the rows after it keep flowing. The metric ``bookshelf_outbox_parked_rows{service}`` counts them.

``retry_parked`` clears the mark (after the cause was fixed, e.g. the topic's ``max.message.bytes``
raised): the relay publishes the rows again (their order relative to the rows published meanwhile is
lost). ``drop_parked`` deletes them: the events are never published. The CLI wraps both
(``bookshelf outbox parked|retry|drop``). Every function takes an asyncpg connection to the service
database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from bookshelf_messaging.schema import NOTIFY_CHANNEL

_LIST_SQL = (
    "SELECT id, topic, key, octet_length(value) AS size, parked_error, created_at, parked_at "
    "FROM outbox WHERE parked_at IS NOT NULL AND published_at IS NULL ORDER BY id LIMIT $1"
)
_RETRY_SQL = (
    "UPDATE outbox SET parked_at = NULL, parked_error = NULL "
    "WHERE parked_at IS NOT NULL AND published_at IS NULL AND ($1::bigint[] IS NULL OR id = ANY($1))"
)
_DROP_SQL = (
    "DELETE FROM outbox "
    "WHERE parked_at IS NOT NULL AND published_at IS NULL AND ($1::bigint[] IS NULL OR id = ANY($1))"
)


@dataclass(frozen=True, slots=True)
class ParkedRow:
    """One parked outbox row: where it was going, how big its value is, and why it was refused."""

    id: int
    topic: str
    key: str | None
    size: int
    error: str
    created_at: datetime
    parked_at: datetime


async def list_parked(conn: asyncpg.Connection, *, limit: int = 1000) -> list[ParkedRow]:
    """Parked rows in id order (at most ``limit``)."""
    rows = await conn.fetch(_LIST_SQL, limit)
    return [
        ParkedRow(
            id=row["id"],
            topic=row["topic"],
            key=row["key"],
            size=row["size"],
            error=row["parked_error"] or "",
            created_at=row["created_at"],
            parked_at=row["parked_at"],
        )
        for row in rows
    ]


async def retry_parked(conn: asyncpg.Connection, ids: Sequence[int] | None = None) -> int:
    """Hand parked rows (``ids``, or all of them when None) back to the relay; returns how many."""
    async with conn.transaction():
        status = await conn.execute(_RETRY_SQL, None if ids is None else list(ids))
        await conn.execute("SELECT pg_notify($1, '')", NOTIFY_CHANNEL)  # wake the relay at commit
    return int(status.split()[-1])


async def drop_parked(conn: asyncpg.Connection, ids: Sequence[int] | None = None) -> int:
    """Delete parked rows (``ids``, or all of them when None): never published; returns how many."""
    status = await conn.execute(_DROP_SQL, None if ids is None else list(ids))
    return int(status.split()[-1])
