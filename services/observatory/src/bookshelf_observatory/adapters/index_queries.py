"""Reading the index: traces, throughput, dead letters, watermarks and record times (for lag)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bookshelf_observatory.adapters.orm import dead_letters, messages, watermarks
from bookshelf_observatory.domain.records import DeadLetterMeta, IndexedMessage

_DL_FIELDS = tuple(DeadLetterMeta.__dataclass_fields__)


def _message(row: Any) -> IndexedMessage:
    return IndexedMessage(
        topic=row.topic,
        partition=row.partition,
        offset=row.offset,
        key=row.key,
        message_id=row.message_id,
        type=row.type,
        version=row.version,
        correlation_id=row.correlation_id,
        causation_id=row.causation_id,
        producer=row.producer,
        occurred_at=row.occurred_at,
        timestamp=row.record_ts,
        size=row.size,
        replay_count=row.replay_count,
        valid=row.valid,
        trace_id=row.trace_id,
    )


def _dead_letter(row: Any) -> DeadLetterMeta:
    return DeadLetterMeta(**{name: getattr(row, name) for name in _DL_FIELDS})


async def correlation_ids_for(conn: AsyncConnection, query: str) -> list[str]:
    """``query`` itself when it is a correlation id, else the correlation ids of records keyed by it
    (an order id: every topic of the saga is keyed by order_id), oldest first."""
    found = await conn.scalar(sa.select(messages.c.topic).where(messages.c.correlation_id == query).limit(1))
    if found is not None:
        return [query]
    first_seen = sa.func.min(messages.c.record_ts)
    rows = await conn.execute(
        sa.select(messages.c.correlation_id, first_seen)
        .where(messages.c.key == query, messages.c.correlation_id.is_not(None))
        .group_by(messages.c.correlation_id)
        .order_by(first_seen)
    )
    return [row[0] for row in rows]


async def trace_rows(
    conn: AsyncConnection, correlation_ids: Sequence[str]
) -> tuple[list[IndexedMessage], list[DeadLetterMeta]]:
    """Every indexed record and dead letter of these correlation ids."""
    ids = list(correlation_ids)
    rows = await conn.execute(sa.select(messages).where(messages.c.correlation_id.in_(ids)))
    letters = await conn.execute(sa.select(dead_letters).where(dead_letters.c.correlation_id.in_(ids)))
    return [_message(r) for r in rows], [_dead_letter(r) for r in letters]


async def throughput(conn: AsyncConnection) -> list[dict[str, Any]]:
    """Per topic: records in the last minute, per-minute rate over 5 minutes, total and last record time."""
    now = sa.func.now()
    recent = (
        sa.select(
            messages.c.topic,
            sa.func.count().filter(messages.c.record_ts > now - sa.text("interval '1 minute'")).label("m1"),
            sa.func.count().label("m5"),
            sa.func.max(messages.c.record_ts).label("last_at"),
        )
        .where(messages.c.record_ts > now - sa.text("interval '5 minutes'"))
        .group_by(messages.c.topic)
    )
    totals = await conn.execute(
        sa.select(watermarks.c.topic, sa.func.sum(watermarks.c.high_watermark)).group_by(watermarks.c.topic)
    )
    table = {
        topic: {
            "topic": topic,
            "per_minute": 0,
            "per_minute_5m": 0.0,
            "total": int(total or 0),
            "last_at": None,
        }
        for topic, total in totals
    }
    for row in await conn.execute(recent):
        entry = table.setdefault(row.topic, {"topic": row.topic, "total": 0})
        entry.update(per_minute=row.m1, per_minute_5m=round(row.m5 / 5, 1), last_at=row.last_at)
    for entry in table.values():
        entry["active"] = bool(entry["total"] or entry["per_minute_5m"])
    return sorted(table.values(), key=lambda e: (-e["per_minute"], -e["total"], e["topic"]))


async def dlq_depth(conn: AsyncConnection) -> dict[str, int]:
    """Open dead letters per ``.dlq`` topic (distinct entries)."""
    rows = await conn.execute(
        sa.select(dead_letters.c.dlq_topic, sa.func.count(sa.distinct(dead_letters.c.entry_id)))
        .where(dead_letters.c.closed_at.is_(None))
        .group_by(dead_letters.c.dlq_topic)
    )
    return {topic: int(count) for topic, count in rows}


async def list_dead_letters(
    conn: AsyncConnection, *, topic: str | None = None, open_only: bool = True, limit: int = 100
) -> list[DeadLetterMeta]:
    """Dead letters, newest first (open ones only unless ``open_only`` is False)."""
    query = sa.select(dead_letters).order_by(
        dead_letters.c.last_failed_at.desc().nulls_last(), dead_letters.c.dlq_offset.desc()
    )
    if open_only:
        query = query.where(dead_letters.c.closed_at.is_(None))
    if topic:
        query = query.where(dead_letters.c.dlq_topic == topic)
    return [_dead_letter(r) for r in await conn.execute(query.limit(limit))]


async def get_dead_letter(conn: AsyncConnection, entry_id: str) -> DeadLetterMeta | None:
    """The latest record of an entry (open or closed), or None."""
    row = (
        await conn.execute(
            sa.select(dead_letters)
            .where(dead_letters.c.entry_id == entry_id)
            .order_by(dead_letters.c.dlq_offset.desc())
            .limit(1)
        )
    ).first()
    return _dead_letter(row) if row is not None else None


async def high_watermarks(conn: AsyncConnection) -> dict[tuple[str, int], int]:
    """The last fetch high watermark of every partition the indexer reads."""
    rows = await conn.execute(
        sa.select(watermarks.c.topic, watermarks.c.partition, watermarks.c.high_watermark)
    )
    return {(topic, partition): int(high) for topic, partition, high in rows}


async def record_times(
    conn: AsyncConnection, coordinates: Sequence[tuple[str, int, int]]
) -> dict[tuple[str, int, int], Any]:
    """The record timestamp at each (topic, partition, offset) that is indexed."""
    if not coordinates:
        return {}
    rows = await conn.execute(
        sa.text(
            'SELECT m.topic, m.partition, m."offset", m.record_ts FROM messages m JOIN unnest('
            "CAST(:t AS text[]), CAST(:p AS int[]), CAST(:o AS bigint[])) AS c(t, p, o) "
            'ON m.topic = c.t AND m.partition = c.p AND m."offset" = c.o'
        ),
        {
            "t": [c[0] for c in coordinates],
            "p": [c[1] for c in coordinates],
            "o": [c[2] for c in coordinates],
        },
    )
    return {(r[0], r[1], r[2]): r[3] for r in rows}
