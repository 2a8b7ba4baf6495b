"""A relay outlives a broker crash: rows written while the broker is down are published once it is
back (tests/faults scenario 6 once found every relay timing out each message for good after a broker
restart: the idempotent producer never recovered, so the relay now takes a fresh one)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from bookshelf_infra.kafka import LocalKafka
from bookshelf_infra.testing import TestDatabase, eventually, free_port
from bookshelf_messaging import KafkaSettings, Outbox, OutboxRelay, create_topic
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .conftest import book, running
from .test_outbox_relay import drained

TOPIC = "relay_restart"


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[LocalKafka]:
    """A broker of this test's own, since the test kills it."""
    kafka = LocalKafka(tmp_path / "kafka", free_port(), controller_port=free_port(), die_with_parent=True)
    kafka.start()
    yield kafka
    kafka.stop()


async def _write(session_factory: async_sessionmaker[AsyncSession], count: int) -> None:
    async with session_factory() as session, session.begin():
        await Outbox("svc").add_many(session, [book(uuid4()) for _ in range(count)], topic=TOPIC)


async def test_rows_written_during_a_broker_outage_are_published_after_it(
    broker: LocalKafka, database: TestDatabase, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    kafka = KafkaSettings(bootstrap_servers=broker.bootstrap_servers)
    await create_topic(kafka, TOPIC, 3)
    relay = OutboxRelay(
        database.url,
        service="svc",
        kafka=kafka,
        lock_retry_s=0.2,
        producer_config={"message.timeout.ms": 3000},
    )
    async with running(relay):
        await _write(session_factory, 5)
        await eventually(lambda: drained(database.dsn), timeout=30, message="not published before")
        broker.kill()
        await _write(session_factory, 5)
        broker.start()  # same data: the topic is still there
        await eventually(lambda: drained(database.dsn), timeout=60, message="not published after")
