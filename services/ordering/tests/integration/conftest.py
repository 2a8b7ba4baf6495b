"""One running ordering service (API, relay, both consumers) shared by the integration tests.

Real PostgreSQL and broker from the bookshelf fixtures; a fresh database; real topic names with
test-unique consumer groups. A collector reads ``ordering.orders`` and ``ordering.commands.dlq`` by
manual assignment (no group join to wait for) so tests can look for their own order ids.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from bookshelf_contracts import (
    ORDERING_COMMANDS,
    ORDERING_ORDERS,
    Currency,
    Envelope,
    Message,
    Money,
    dlq,
    topic_spec,
)
from bookshelf_infra.testing import eventually, unique_name
from bookshelf_messaging import KafkaSettings, ensure_topics
from bookshelf_ordering import migrations
from bookshelf_ordering.bootstrap import bootstrap
from bookshelf_ordering.config import OrderingSettings
from bookshelf_ordering.service_layer.unit_of_work import SqlUnitOfWork
from bookshelf_servicekit.runtime import Components


@dataclass
class Record:
    """A consumed record: topic, key, headers and the parsed JSON value."""

    topic: str
    key: str | None
    headers: dict[str, str]
    value: dict[str, Any]


STAFF = {"Authorization": "Bearer dev-admin-token"}


@dataclass
class OrderingHarness:
    """The running service plus helpers to drive and observe it."""

    components: Components
    client: httpx.AsyncClient  # sends the staff token (reads and cancels any order)
    producer: AIOKafkaProducer
    anonymous: httpx.AsyncClient  # sends no credentials (a customer sends the order's token)
    records: list[Record] = field(default_factory=list)

    async def seed_book(self, title: str = "Dune", amount: str = "12.99", currency: str = "USD") -> uuid.UUID:
        """Put a book straight into the replica (tests of the replica consumer use Kafka instead)."""
        book_id = uuid.uuid4()
        price = Money(amount=Decimal(amount), currency=Currency(currency))
        async with self.session() as session, session.begin():
            await SqlUnitOfWork(session, self.outbox, owns_transaction=False).books.apply_book(
                book_id, title, price, 1
            )
        return book_id

    def session(self) -> Any:
        return self.components.app.state.ordering.session_factory()

    @property
    def outbox(self) -> Any:
        return self.components.app.state.ordering.outbox

    async def send(
        self, topic: str, message: Message, *, key: str, correlation_id: str | None = None
    ) -> Envelope:
        """Produce a contract message in its envelope, as another service would."""
        envelope = Envelope.wrap(message, producer="test", correlation_id=correlation_id or str(uuid.uuid4()))
        await self.send_raw(topic, envelope.to_json(), key=key, headers=envelope.kafka_headers())
        return envelope

    async def send_raw(self, topic: str, value: bytes, *, key: str, headers: list[tuple[str, bytes]]) -> None:
        await self.producer.send_and_wait(topic, value=value, key=key.encode(), headers=headers)

    def events(self, order_id: Any, type_: str | None = None) -> list[Record]:
        """Records on ordering.orders keyed by this order (optionally of one type), in arrival order."""
        return [
            r
            for r in self.records
            if r.topic == ORDERING_ORDERS and r.key == str(order_id) and type_ in (None, r.value.get("type"))
        ]

    def dead_letters(self, message_id: Any) -> list[Record]:
        """Dead letters of ordering.commands for the record with this message id."""
        return [
            r
            for r in self.records
            if r.topic == dlq(ORDERING_COMMANDS) and r.headers.get("message_id") == str(message_id)
        ]

    async def order(self, order_id: Any) -> dict[str, Any]:
        response = await self.client.get(f"/orders/{order_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def _record(raw: Any) -> Record:
    headers = {name: (value or b"").decode() for name, value in raw.headers or ()}
    try:
        value = orjson.loads(raw.value) if raw.value else {}
    except orjson.JSONDecodeError:
        value = {"raw": raw.value.decode(errors="replace")}
    return Record(raw.topic, raw.key.decode() if raw.key else None, headers, value)


async def _collect(consumer: AIOKafkaConsumer, into: list[Record]) -> None:
    while True:
        batches = await consumer.getmany(timeout_ms=100)
        for records in batches.values():
            into.extend(_record(raw) for raw in records)


async def _start_service(postgres_server: Any, kafka: KafkaSettings, name: str) -> Components:
    """Migrate a fresh database, create the topics and build the service with test-unique groups."""
    postgres_server.create_database(name)
    url = postgres_server.sqlalchemy_url(name)
    await asyncio.to_thread(migrations.upgrade, url)
    await ensure_topics(kafka)
    settings = OrderingSettings(
        database_url=url,
        commands_group=unique_name("ordering.commands"),
        catalog_group=unique_name("ordering.catalog-replica"),
    )
    return bootstrap(settings, kafka)


async def _collector(kafka: KafkaSettings) -> AIOKafkaConsumer:
    """A group-less consumer assigned every partition of ordering.orders and ordering.commands.dlq."""
    consumer = AIOKafkaConsumer(
        **kafka.aiokafka_kwargs(), group_id=None, auto_offset_reset="earliest", fetch_max_wait_ms=10
    )
    topics = [ORDERING_ORDERS, dlq(ORDERING_COMMANDS)]
    consumer.assign([TopicPartition(t, p) for t in topics for p in range(topic_spec(t).partitions)])
    await consumer.start()
    return consumer


@pytest.fixture(scope="session")
async def ordering(postgres_server: Any, kafka_bootstrap: str) -> AsyncIterator[OrderingHarness]:
    """The ordering service (API, relay, both consumers) on a fresh database and the test broker."""
    name = unique_name("ordering_it")
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap)
    components = await _start_service(postgres_server, kafka, name)
    runners = [runner for runner in (components.relay, *components.consumers) if runner is not None]
    tasks = [asyncio.create_task(runner.run()) for runner in runners]
    collector = await _collector(kafka)
    producer = AIOKafkaProducer(**kafka.aiokafka_kwargs(), acks="all")
    await producer.start()
    transport = httpx.ASGITransport(app=components.app)
    harness = OrderingHarness(
        components,
        httpx.AsyncClient(transport=transport, base_url="http://ordering", headers=STAFF),
        producer,
        httpx.AsyncClient(transport=transport, base_url="http://ordering"),
    )
    collecting = asyncio.create_task(_collect(collector, harness.records))
    await eventually(lambda: all(getattr(c, "is_running", False) for c in components.consumers), timeout=30)
    yield harness
    for runner in runners:
        runner.stop()
    await asyncio.wait(tasks, timeout=20)
    collecting.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await collecting
    await harness.client.aclose()
    await harness.anonymous.aclose()
    await producer.stop()
    await collector.stop()
    await components.engine.dispose()
    postgres_server.drop_database(name)
