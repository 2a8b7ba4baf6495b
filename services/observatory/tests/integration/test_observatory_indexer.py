"""The indexer: every record's metadata, dead letters and tombstones, batches, idempotent re-reads."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from uuid import uuid4

from bookshelf_contracts import OrderConfirmed
from bookshelf_infra.testing import eventually, unique_name
from bookshelf_messaging.dlq import Failure, build_dead_letter
from bookshelf_observatory import metrics
from bookshelf_observatory.adapters.index_writer import write_batch
from bookshelf_observatory.domain.records import Parsed, parse_record
from bookshelf_observatory.entrypoints.indexer import Indexer

from .conftest import ObservatoryIT
from .observatory_messages import order_placed, reserve_stock

Check = Callable[[], bool | Awaitable[bool]]


async def test_every_record_is_indexed_with_its_envelope_metadata(observatory_it: ObservatoryIT) -> None:
    cid, order_id, book = f"it-{uuid4()}", uuid4(), uuid4()
    placed, record = await observatory_it.send(
        observatory_it.orders, order_placed(order_id, book), correlation_id=cid, producer="ordering"
    )
    reserve, _ = await observatory_it.send(
        observatory_it.commands, reserve_stock(order_id, book), correlation_id=cid, causation=placed
    )
    await observatory_it.producer.send_and_wait(
        observatory_it.orders, value=b"\x00not json", key=str(order_id).encode(), headers=[("type", b"Bogus")]
    )
    rows = await observatory_it.indexed(3, "key = :key", key=str(order_id))
    first = next(r for r in rows if r.message_id == str(placed.message_id))
    assert (first.topic, first.partition, first.offset) == (record.topic, record.partition, record.offset)
    assert (first.type, first.version, first.producer, first.correlation_id) == (
        "OrderPlaced",
        1,
        "ordering",
        cid,
    )
    assert first.causation_id is None
    assert first.occurred_at == placed.occurred_at
    assert first.size == len(placed.to_json())
    assert first.valid
    assert first.record_ts is not None
    second = next(r for r in rows if r.message_id == str(reserve.message_id))
    assert (second.type, second.causation_id, second.topic) == (
        "ReserveStock",
        str(placed.message_id),
        observatory_it.commands,
    )
    poison = next(r for r in rows if r.type == "Bogus")
    assert not poison.valid
    assert poison.message_id is None


async def test_dead_letters_are_indexed_open_and_closed_by_their_tombstone(
    observatory_it: ObservatoryIT,
) -> None:
    cid, order_id = f"it-{uuid4()}", uuid4()
    env, record = await observatory_it.send(
        observatory_it.orders, OrderConfirmed(order_id=order_id, version=2), correlation_id=cid
    )
    entry_id = await observatory_it.dead_letter(record, "storefront.orders")
    sql = "SELECT * FROM dead_letters WHERE entry_id = :e"

    async def letter(closed: bool) -> object:
        rows = await observatory_it.rows(sql, e=entry_id)
        return rows and (rows[0].closed_at is not None) == closed and rows[0]

    row = await eventually(lambda: letter(False), timeout=30, message="dead letter indexed")
    assert (row.original_topic, row.original_offset, row.consumer_group) == (
        observatory_it.orders,
        record.offset,
        "storefront.orders",
    )
    assert (row.message_id, row.message_type, row.correlation_id) == (
        str(env.message_id),
        "OrderConfirmed",
        cid,
    )
    assert row.error_type == "ValueError"
    assert "boom: no such book" in row.error_message
    assert "ValueError: boom: no such book" in row.stacktrace
    assert row.attempts == 4
    assert row.value == env.to_json()
    await observatory_it.producer.send_and_wait(
        f"{observatory_it.orders}.dlq", value=None, key=entry_id.encode(), partition=row.dlq_partition
    )
    closed = await eventually(lambda: letter(True), timeout=30, message="tombstone closes the entry")
    assert closed.closed_by == "tombstone"


async def test_batches_are_large_and_reindexing_changes_nothing(observatory_it: ObservatoryIT) -> None:
    cid = f"it-bulk-{uuid4()}"
    batches_before = _batches_observed()
    sends = [
        observatory_it.producer.send(
            observatory_it.orders,
            value=b"{}",
            key=str(i).encode(),
            headers=[("correlation_id", cid.encode()), ("message_id", str(uuid4()).encode())],
        )
        for i in range(1500)
    ]
    await asyncio.gather(*[await s for s in sends])
    await observatory_it.indexed(1500, "correlation_id = :cid", cid=cid)
    assert _batches_observed() - batches_before <= 40, "expected hundreds of records per statement"
    await eventually(
        lambda: _watermark_total(observatory_it), timeout=30, message="high watermarks of the topic stored"
    )
    await _reindex_with_a_second_group(observatory_it)
    rows = await observatory_it.rows(
        "SELECT count(*) AS n FROM messages WHERE correlation_id = :cid", cid=cid
    )
    assert rows[0].n == 1500


async def _watermark_total(obs: ObservatoryIT) -> bool:
    rows = await obs.rows(
        "SELECT sum(high_watermark) AS total FROM partition_watermarks WHERE topic = :t", t=obs.orders
    )
    return bool(rows[0].total and rows[0].total >= 1500)


async def _reindex_with_a_second_group(obs: ObservatoryIT, done: Check | None = None) -> None:
    """Another indexer (another group, subscribed by pattern as in production) reads it all again."""
    second = Indexer(
        obs.components.engine,
        obs.kafka,
        group_id=unique_name("observatory.indexer.again"),
        pattern=rf"^{re.escape(obs.base)}\..+",
        fetch_wait_ms=10,
    )
    task = asyncio.create_task(second.run())
    try:
        await eventually(
            done or (lambda: _indexed(obs.orders) >= 3000), timeout=30, message="second indexer's work done"
        )
    finally:
        second.stop()
        with contextlib.suppress(BaseException):
            await asyncio.wait_for(task, 15)


def _batches_observed() -> float:
    return next(s.value for s in metrics.INDEX_BATCH.collect()[0].samples if s.name.endswith("_count"))


def _indexed(topic: str) -> float:
    """Records of ``topic`` indexed by every indexer of this process."""
    return sum(
        s.value
        for s in metrics.INDEXED.collect()[0].samples
        if s.name.endswith("_total") and s.labels["topic"] == topic
    )


async def test_a_new_record_at_old_coordinates_replaces_the_row(observatory_it: ObservatoryIT) -> None:
    """A re-created topic (or a wiped broker) reuses offsets; the index must follow, not keep the old."""
    topic = f"{observatory_it.base}.restarted"

    def record(message_id: str, value: bytes, ms: int) -> Parsed:
        return parse_record(topic, 0, 0, b"k", value, [("message_id", message_id.encode())], ms)

    engine = observatory_it.components.engine
    for batch in (
        [record("old", b"{}", 1_000)],
        [record("old", b"{}", 1_000)],
        [record("new", b"{}", 2_000)],
    ):
        async with engine.begin() as conn:
            await write_batch(conn, batch)
    rows = await observatory_it.rows('SELECT message_id, "offset" FROM messages WHERE topic = :t', t=topic)
    assert [(r.message_id, r.offset) for r in rows] == [("new", 0)]


async def test_rows_past_the_watermark_are_forgotten_after_a_broker_reset(
    observatory_it: ObservatoryIT,
) -> None:
    """Rows at offsets the broker does not have (its data was wiped) go; their dead letters close."""
    topic, dlq_topic = observatory_it.orders, f"{observatory_it.orders}.dlq"
    ghosts = [
        parse_record(topic, 0, offset, b"k", b"{}", [("message_id", b"ghost")], 1_000) for offset in (50, 51)
    ]
    letter = await _ghost_dead_letter(observatory_it, dlq_topic)
    async with observatory_it.components.engine.begin() as conn:
        await write_batch(conn, [*ghosts, letter])
    await observatory_it.producer.send_and_wait(topic, value=b"{}", partition=0)
    await observatory_it.producer.send_and_wait(dlq_topic, value=None, key=b"other", partition=0)

    async def forgotten() -> bool:
        ghost_rows = await observatory_it.rows("SELECT 1 FROM messages WHERE message_id = 'ghost'")
        closed = await observatory_it.rows(
            "SELECT closed_by FROM dead_letters WHERE entry_id = 'ghost-entry'"
        )
        return not ghost_rows and closed[0].closed_by == "broker reset"

    await _reindex_with_a_second_group(observatory_it, done=forgotten)


async def _ghost_dead_letter(obs: ObservatoryIT, dlq_topic: str) -> Parsed:
    _, record = await obs.send(obs.commands, OrderConfirmed(order_id=uuid4(), version=2), correlation_id="x")
    now = datetime.now(UTC)
    letter = build_dead_letter(record, "g", Failure(ValueError("gone"), 1, now, now))
    return parse_record(dlq_topic, 0, 40, b"ghost-entry", letter.value, letter.headers, 1_000)
