"""Writing the index: one statement per batch of records, idempotent by (topic, partition, offset).

``messages`` and ``partition_watermarks`` are written with ``INSERT ... SELECT FROM unnest(arrays)``: a
single prepared statement whatever the batch size (hundreds or thousands of rows, 16 parameters), so a
catalog import of 50,000 books is indexed in a few dozen statements.

Re-reading a record changes nothing. A *different* record at known coordinates replaces the row: a
topic deleted and created again (or a broker whose data was wiped while this database kept its rows)
hands out offset 0 again; without the replacement the new messages would never be indexed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from bookshelf_observatory.adapters.orm import dead_letters
from bookshelf_observatory.domain.records import IndexedMessage, Parsed, Tombstone

_MESSAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("topic", "text"),
    ("partition", "int"),
    ("offset", "bigint"),
    ("key", "text"),
    ("message_id", "text"),
    ("type", "text"),
    ("version", "int"),
    ("correlation_id", "text"),
    ("causation_id", "text"),
    ("producer", "text"),
    ("occurred_at", "timestamptz"),
    ("record_ts", "timestamptz"),
    ("size", "int"),
    ("replay_count", "int"),
    ("valid", "boolean"),
    ("trace_id", "text"),
)
INSERT_MESSAGES = sa.text(
    "INSERT INTO messages ("
    + ", ".join(f'"{name}"' for name, _ in _MESSAGE_COLUMNS)
    + ") SELECT * FROM unnest("
    + ", ".join(f"CAST(:{name} AS {kind}[])" for name, kind in _MESSAGE_COLUMNS)
    + ') ON CONFLICT (topic, partition, "offset") DO UPDATE SET '
    + ", ".join(f'"{name}" = excluded."{name}"' for name, _ in _MESSAGE_COLUMNS[3:])
    + ", indexed_at = now() WHERE messages.record_ts IS DISTINCT FROM excluded.record_ts "
    "OR messages.message_id IS DISTINCT FROM excluded.message_id"
)
UPSERT_WATERMARKS = sa.text(
    "INSERT INTO partition_watermarks (topic, partition, high_watermark, updated_at) "
    "SELECT t, p, h, now() FROM unnest(CAST(:topic AS text[]), CAST(:partition AS int[]), "
    "CAST(:high AS bigint[])) AS w(t, p, h) "
    "ON CONFLICT (topic, partition) DO UPDATE SET high_watermark = excluded.high_watermark, "
    "updated_at = excluded.updated_at"
)
CLOSE_BY_TOMBSTONE = sa.text(
    "UPDATE dead_letters SET closed_at = coalesce(CAST(:at AS timestamptz), now()), closed_by = 'tombstone' "
    "WHERE dlq_topic = :topic AND dlq_partition = :partition AND entry_id = :entry_id "
    "AND dlq_offset < :offset AND closed_at IS NULL"
)


def _message_arrays(rows: Sequence[IndexedMessage]) -> dict[str, list[Any]]:
    values: dict[str, list[Any]] = {name: [] for name, _ in _MESSAGE_COLUMNS}
    for m in rows:
        for name, value in (
            ("topic", m.topic),
            ("partition", m.partition),
            ("offset", m.offset),
            ("key", m.key),
            ("message_id", m.message_id),
            ("type", m.type),
            ("version", m.version),
            ("correlation_id", m.correlation_id),
            ("causation_id", m.causation_id),
            ("producer", m.producer),
            ("occurred_at", m.occurred_at),
            ("record_ts", m.timestamp),
            ("size", m.size),
            ("replay_count", m.replay_count),
            ("valid", m.valid),
            ("trace_id", m.trace_id),
        ):
            values[name].append(value)
    return values


def _strip_nul(text: str | None) -> str | None:
    # PostgreSQL text cannot hold NUL; a poison record's key or header may.
    return text.replace("\x00", "\\0") if text else text


def _clean(message: IndexedMessage) -> IndexedMessage:
    fields = ("key", "message_id", "type", "correlation_id", "causation_id", "producer", "trace_id")
    if not any("\x00" in (getattr(message, f) or "") for f in fields):
        return message
    cleaned: dict[str, Any] = {f: _strip_nul(getattr(message, f)) for f in fields}
    return replace(message, **cleaned)


async def write_batch(conn: AsyncConnection, parsed: Iterable[Parsed]) -> int:
    """Index a batch (in the caller's transaction); returns how many records it held."""
    items = list(parsed)
    rows = [_clean(p.message) for p in items if p.message is not None]
    if rows:
        await conn.execute(INSERT_MESSAGES, _message_arrays(rows))
    letters = [p.dead_letter for p in items if p.dead_letter is not None]
    if letters:
        values = [
            {k: _strip_nul(v) if isinstance(v, str) else v for k, v in vars_of(letter).items()}
            for letter in letters
        ]
        await conn.execute(_upsert_dead_letters(values))
    tombstones = [p.tombstone for p in items if p.tombstone is not None]
    if tombstones:
        await conn.execute(CLOSE_BY_TOMBSTONE, [_tombstone_params(t) for t in tombstones])
    return len(items)


def _upsert_dead_letters(values: list[dict[str, Any]]) -> Any:
    """Insert, or replace a row whose coordinates now hold another failure (a restarted broker)."""
    statement = insert(dead_letters).values(values)
    keys = {c.name for c in dead_letters.primary_key}
    changes: dict[str, Any] = {
        c.name: statement.excluded[c.name] for c in dead_letters.c if c.name not in keys
    }
    return statement.on_conflict_do_update(
        index_elements=sorted(keys),
        set_={**changes, "closed_at": None, "closed_by": None},
        where=sa.or_(
            dead_letters.c.last_failed_at.is_distinct_from(statement.excluded.last_failed_at),
            dead_letters.c.message_id.is_distinct_from(statement.excluded.message_id),
        ),
    )


def vars_of(letter: Any) -> dict[str, Any]:
    """A slotted dataclass as a dict of its fields."""
    return {name: getattr(letter, name) for name in letter.__dataclass_fields__}


def _tombstone_params(tombstone: Tombstone) -> dict[str, Any]:
    return {
        "at": tombstone.timestamp,
        "topic": tombstone.dlq_topic,
        "partition": tombstone.partition,
        "entry_id": tombstone.entry_id,
        "offset": tombstone.offset,
    }


async def write_watermarks(conn: AsyncConnection, highs: dict[tuple[str, int], int]) -> None:
    """Remember the fetch high watermark of each partition (for lag)."""
    if not highs:
        return
    keys = sorted(highs)
    await conn.execute(
        UPSERT_WATERMARKS,
        {"topic": [t for t, _ in keys], "partition": [p for _, p in keys], "high": [highs[k] for k in keys]},
    )


_BEYOND = "unnest(CAST(:topic AS text[]), CAST(:partition AS int[]), CAST(:high AS bigint[])) AS w(t, p, h)"
DELETE_BEYOND = sa.text(
    f'DELETE FROM messages m USING {_BEYOND} WHERE m.topic = w.t AND m.partition = w.p AND m."offset" >= w.h'
)
CLOSE_BEYOND = sa.text(
    f"UPDATE dead_letters d SET closed_at = now(), closed_by = 'broker reset' FROM {_BEYOND} "
    "WHERE d.dlq_topic = w.t AND d.dlq_partition = w.p AND d.dlq_offset >= w.h AND d.closed_at IS NULL"
)


async def forget_beyond(conn: AsyncConnection, highs: dict[tuple[str, int], int]) -> None:
    """Drop index rows at or past each partition's high watermark: records the broker no longer has.

    Offsets only go backwards when a broker starts empty (the embedded one after a restart); the
    indexer calls this once per partition when it first learns the partition's watermark.
    """
    if highs:
        keys = sorted(highs)
        params = {
            "topic": [t for t, _ in keys],
            "partition": [p for _, p in keys],
            "high": [highs[k] for k in keys],
        }
        await conn.execute(DELETE_BEYOND, params)
        await conn.execute(CLOSE_BEYOND, params)


async def mark_closed(conn: AsyncConnection, entry_ids: Sequence[str], by: str) -> None:
    """Close entries right away after a replay or purge (their tombstones are indexed a moment later)."""
    if entry_ids:
        await conn.execute(
            dead_letters.update()
            .where(dead_letters.c.entry_id.in_(list(entry_ids)), dead_letters.c.closed_at.is_(None))
            .values(closed_at=sa.func.now(), closed_by=by)
        )


async def prune(conn: AsyncConnection, older_than: datetime) -> int:
    """Delete index rows older than the retention (open dead letters are kept); returns rows deleted."""
    result = await conn.execute(sa.text("DELETE FROM messages WHERE record_ts < :t"), {"t": older_than})
    closed = await conn.execute(
        sa.text("DELETE FROM dead_letters WHERE closed_at IS NOT NULL AND closed_at < :t"), {"t": older_than}
    )
    return int(result.rowcount or 0) + int(closed.rowcount or 0)
