"""An oversized poison record (1.5 MiB, above aiokafka's 1 MiB default request size) is dead-lettered
whole and does not block its partition (tests/faults scenario 4 found the partition stuck for good:
writing the dead letter failed, was taken for a broker outage and retried forever).

Bookshelf's own topics refuse records above ``MAX_MESSAGE_BYTES`` (1,000,000); a topic an operator
configured larger is what this test stands for, so its topics take up to 4 MiB."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaProducer
from bookshelf_contracts import BookAdded, Envelope, Message
from bookshelf_infra.testing import eventually, unique_name
from bookshelf_messaging import ConsumerRunner, DeadLetterStore, KafkaSettings, create_topic
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .conftest import book, consumed, running

OVERSIZED = b"\x00" * 1_500_000
LARGE_TOPIC = 4 * 2**20


async def test_oversized_poison_is_dead_lettered_and_the_partition_moves_on(
    session_factory: async_sessionmaker[AsyncSession], kafka: KafkaSettings
) -> None:
    topic = unique_name("c_oversized")
    await create_topic(kafka, topic, 1, max_message_bytes=LARGE_TOPIC)
    await create_topic(kafka, f"{topic}.dlq", 1, compacted=True, max_message_bytes=LARGE_TOPIC)
    after = Envelope.wrap(book(title="after"), producer="test", correlation_id="c-after")
    producer = AIOKafkaProducer(**kafka.aiokafka_kwargs(), acks="all", max_request_size=4 * 2**20)
    await producer.start()
    try:
        await producer.send_and_wait(topic, key=b"k", value=OVERSIZED)
        await producer.send_and_wait(topic, key=b"k", value=after.to_json(), headers=after.kafka_headers())
    finally:
        await producer.stop()
    seen: list[str] = []

    async def handler(message: Message, envelope: Envelope, session: AsyncSession) -> None:
        assert isinstance(message, BookAdded)
        seen.append(message.title)

    runner = ConsumerRunner(unique_name("g"), [topic], {"BookAdded": handler}, session_factory, kafka)
    async with running(runner):
        await eventually(lambda: seen == ["after"], timeout=30, message="the record after the poison")
    entries = await asyncio.to_thread(DeadLetterStore(kafka).list_open, topic)
    assert [(e.original_offset, e.value) for e in entries] == [(0, OVERSIZED)]
    assert consumed(runner.group_id, topic, "dead_lettered") == 1
