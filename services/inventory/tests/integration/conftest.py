"""Inventory integration fixtures: a migrated database per module, and the running service.

``inventory_running`` starts the real service (bootstrap with the test database and broker, relay and
consumers as asyncio tasks) once per module, with an HTTP client on the app and a feed that reads
inventory's output and dead-letter topics from the beginning.

Isolation on the shared broker: the service consumes module-unique input topics (same layout as the
real ones: ``.bulk`` lane and ``.dlq``) with module-unique groups, so it never handles another test's
commands (answering an order of another test's saga would break that test) nor replays their
history; it publishes to the real output topics, where every test filters by its own ids.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from bookshelf_contracts import (
    CATALOG_BOOKS,
    INVENTORY_COMMANDS,
    INVENTORY_RESERVATIONS,
    INVENTORY_STOCK,
    SUPPLIER_BOOK_SUPPLY,
    Envelope,
    Message,
    bulk,
    dlq,
    key_for,
    topic_for,
)
from bookshelf_infra.pgadmin import PostgresAdmin
from bookshelf_infra.testing import partitions_of, unique_name
from bookshelf_inventory import migrations
from bookshelf_inventory.bootstrap import build
from bookshelf_inventory.config import InventorySettings
from bookshelf_inventory.entrypoints.consumers import InputTopics
from bookshelf_messaging import KafkaSettings, create_topic, ensure_topics
from bookshelf_servicekit.runtime import Components

OUTPUT_TOPICS = (INVENTORY_STOCK, INVENTORY_RESERVATIONS)


@pytest.fixture(scope="module")
async def inventory_db_url(postgres_server: PostgresAdmin) -> AsyncIterator[str]:
    """A database migrated by ``migrations.upgrade``, shared by one test module."""
    name = unique_name("inventory_it")
    await postgres_server.create_database_async(name)
    url = postgres_server.sqlalchemy_url(name)
    await asyncio.to_thread(migrations.upgrade, url)
    yield url
    await postgres_server.drop_database_async(name)


@dataclass
class Feed:
    """Every record of the watched topics, read from the beginning without a consumer group."""

    kafka: KafkaSettings
    topics: tuple[str, ...]
    records: list[tuple[str, Envelope | None, dict[str, str]]] = field(default_factory=list)
    # message id -> (topic, record key) of every published event, to check the keying of each topic.
    placement: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    _task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        consumer = AIOKafkaConsumer(
            **self.kafka.aiokafka_kwargs(), enable_auto_commit=False, fetch_max_wait_ms=10
        )
        await consumer.start()
        tps: list[TopicPartition] = []
        for topic in self.topics:
            tps.extend(TopicPartition(topic, p) for p in await partitions_of(consumer, topic))
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        self._task = asyncio.create_task(self._read(consumer))

    async def _read(self, consumer: AIOKafkaConsumer) -> None:
        try:
            while True:
                for batch in (await consumer.getmany(timeout_ms=100)).values():
                    for record in batch:
                        headers = {k: (v or b"").decode() for k, v in record.headers}
                        envelope = None if record.topic.endswith(".dlq") else Envelope.from_json(record.value)
                        self.records.append((record.topic, envelope, headers))
                        if envelope is not None:
                            key = record.key.decode() if record.key is not None else None
                            self.placement[str(envelope.message_id)] = (record.topic, key)
        finally:
            await consumer.stop()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def events(self, type_name: str, **fields: Any) -> list[dict[str, Any]]:
        """Data of published events of this type whose fields equal ``fields`` (compared as strings)."""
        return [
            e.data
            for _, e, _ in self.records
            if e is not None
            and e.type == type_name
            and all(str(e.data.get(k)) == str(v) for k, v in fields.items())
        ]

    def placements(self, type_name: str, **fields: Any) -> list[tuple[str, str | None]]:
        """(topic, key) of each published event of this type whose fields equal ``fields``."""
        return [
            self.placement[str(e.message_id)]
            for _, e, _ in self.records
            if e is not None
            and e.type == type_name
            and all(str(e.data.get(k)) == str(v) for k, v in fields.items())
        ]

    def dead_letters(self, topic: str, message_id: UUID | str) -> list[dict[str, str]]:
        """Headers of dead letters on ``topic`` whose original message id is ``message_id``."""
        return [h for t, _, h in self.records if t == topic and h.get("message_id") == str(message_id)]


@dataclass
class RunningInventory:
    """The service under test: components, HTTP client, output feed and a producer for its inputs."""

    components: Components
    client: httpx.AsyncClient
    feed: Feed
    producer: AIOKafkaProducer
    url: str
    topics: InputTopics

    def topic(self, real: str) -> str:
        """This module's stand-in for a real input topic (``catalog.books`` -> its unique twin)."""
        twins = {
            CATALOG_BOOKS: self.topics.catalog,
            INVENTORY_COMMANDS: self.topics.commands,
            SUPPLIER_BOOK_SUPPLY: self.topics.supplier,
        }
        return twins[real]

    async def send(
        self, message: Message, *, lane: str = "primary", envelope: Envelope | None = None
    ) -> Envelope:
        """Publish a message the way its producer service would (or re-send a given envelope)."""
        envelope = envelope or Envelope.wrap(message, producer="test", correlation_id=unique_name("corr"))
        topic = self.topic(topic_for(message))
        topic = topic if lane == "primary" else bulk(topic)
        await self.producer.send_and_wait(
            topic, value=envelope.to_json(), key=key_for(message).encode(), headers=envelope.kafka_headers()
        )
        return envelope

    def dead_letters(self, real_topic: str, message_id: UUID | str) -> list[dict[str, str]]:
        """Headers of dead letters of this module's twin of ``real_topic`` for ``message_id``."""
        return self.feed.dead_letters(dlq(self.topic(real_topic)), message_id)

    async def send_raw(self, topic: str, key: str, value: bytes, headers: list[tuple[str, bytes]]) -> None:
        """Publish bytes as they are to this module's twin of a real input topic."""
        await self.producer.send_and_wait(self.topic(topic), value=value, key=key.encode(), headers=headers)


async def _input_topics(kafka: KafkaSettings) -> InputTopics:
    """Unique twins of inventory's input topics, each with its ``.bulk`` lane and compacted ``.dlq``."""
    prefix = unique_name("inventory_it")
    topics = InputTopics(
        catalog=f"{prefix}.catalog", commands=f"{prefix}.commands", supplier=f"{prefix}.supplier"
    )
    for name in (topics.catalog, topics.commands, topics.supplier):
        await create_topic(kafka, name)
        await create_topic(kafka, bulk(name))
        await create_topic(kafka, dlq(name), compacted=True)
    return topics


def _settings(url: str) -> InventorySettings:
    suffix = unique_name("t")
    return InventorySettings(
        database_url=url,
        catalog_group=f"inventory.catalog-events.{suffix}",
        commands_group=f"inventory.commands.{suffix}",
        supplier_group=f"inventory.supplier-feed.{suffix}",
        supplier_max_retries=2,
        supplier_backoff_s=0.05,
    )


@pytest.fixture(scope="module")
async def inventory_running(kafka_bootstrap: str, inventory_db_url: str) -> AsyncIterator[RunningInventory]:
    """The inventory service running against the test database and broker for one module."""
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap)
    await ensure_topics(kafka)
    topics = await _input_topics(kafka)
    components = build(_settings(inventory_db_url), kafka, topics=topics)
    runners = [components.relay, *components.consumers]
    tasks = [asyncio.create_task(r.run()) for r in runners if r is not None]
    feed = Feed(kafka, (*OUTPUT_TOPICS, dlq(topics.catalog), dlq(topics.commands), dlq(topics.supplier)))
    await feed.start()
    producer = AIOKafkaProducer(**kafka.aiokafka_kwargs(), acks="all")
    await producer.start()
    transport = httpx.ASGITransport(app=components.app)
    client = httpx.AsyncClient(transport=transport, base_url="http://inventory")
    try:
        yield RunningInventory(components, client, feed, producer, inventory_db_url, topics)
    finally:
        await client.aclose()
        await producer.stop()
        await feed.stop()
        for runner in runners:
            if runner is not None:
                runner.stop()
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=30)
        await components.engine.dispose()
