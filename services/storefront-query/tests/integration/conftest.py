"""storefront-query wired against real PostgreSQL and a Kafka-protocol broker, shared by the session.

One database and the four live consumers (with test-unique group ids) for every integration test;
tests use unique book and order ids (and unique author tokens) instead of cleaning up. A tap reads
``catalog.books.dlq`` in the background. Event builders produce what the owning services publish.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import ConsumerRecord
from bookshelf_contracts import (
    CATALOG_BOOKS,
    TOPICS,
    BookAdded,
    Envelope,
    InventoryLevelChanged,
    Message,
    bulk,
    dlq,
    key_for,
    topic_for,
)
from bookshelf_contracts.testing import usd
from bookshelf_infra.pgadmin import PostgresAdmin
from bookshelf_infra.testing import eventually, unique_name
from bookshelf_messaging import ConsumerRunner, KafkaSettings, create_topic, ensure_topics
from bookshelf_servicekit.runtime import Components
from bookshelf_storefront.bootstrap import build
from bookshelf_storefront.config import StorefrontSettings
from bookshelf_storefront.entrypoints.consumers import live_handlers
from bookshelf_storefront.migrations import upgrade
from sqlalchemy.ext.asyncio import async_sessionmaker

Record = ConsumerRecord[bytes, bytes]
T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def book_added(book_id: UUID | None = None, **fields: Any) -> BookAdded:
    """A BookAdded (version 1 unless given) with defaults for every required field."""
    values: dict[str, Any] = {
        "book_id": book_id or uuid4(),
        "title": "A Book",
        "author": "An Author",
        "price": usd("10.00"),
        "version": 1,
    }
    return BookAdded(**{**values, **fields})


def stock(book_id: UUID, available: int, version: int, reserved: int = 0) -> InventoryLevelChanged:
    """InventoryLevelChanged with ``available`` units (on_hand = available + reserved)."""
    return InventoryLevelChanged(
        book_id=book_id, on_hand=available + reserved, reserved=reserved, available=available, version=version
    )


class Tap:
    """Reads one topic from the beginning with its own group, keeping every record, in a task."""

    def __init__(self, kafka: KafkaSettings, topic: str) -> None:
        self.topic = topic
        self.records: list[Record] = []
        self.consumer = AIOKafkaConsumer(
            topic,
            **kafka.aiokafka_kwargs(),
            group_id=unique_name("storefront_it_tap"),
            auto_offset_reset="earliest",
            fetch_max_wait_ms=10,
            session_timeout_ms=6000,
            heartbeat_interval_ms=1000,
        )
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.consumer.start()
        self.task = asyncio.create_task(self._poll())

    async def _poll(self) -> None:
        while True:
            for batch in (await self.consumer.getmany(timeout_ms=200)).values():
                self.records.extend(batch)

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(BaseException):
                await self.task
        await self.consumer.stop()

    async def wait_for(self, match: Callable[[Record], bool], timeout: float = 30) -> Record:  # noqa: ASYNC109
        """The first record that matches, polling until ``timeout``."""

        def found() -> Record | None:
            return next((r for r in self.records if match(r)), None)

        return await eventually(found, timeout=timeout, message=f"no matching record on {self.topic}")


def header(record: Record, name: str) -> str:
    """A record header as text ('' when absent)."""
    return next((v.decode() for k, v in record.headers if k == name), "")


@dataclass
class StorefrontIT:
    """The running service: HTTP client on its app, a producer for the source topics, a DLQ tap."""

    http: httpx.AsyncClient
    components: Components
    settings: StorefrontSettings
    kafka: KafkaSettings
    database_url: str
    producer: AIOKafkaProducer
    catalog_dlq: Tap
    keys: set[UUID] = field(default_factory=set)

    async def send(
        self,
        message: Message,
        *,
        message_id: UUID | None = None,
        lane: str | None = None,
        at: datetime | None = None,
    ) -> Envelope:
        """Produce an event as its owning service would (key from the contract; ``lane="bulk"``)."""
        env = Envelope.wrap(
            message,
            producer="storefront-it",
            correlation_id=str(uuid4()),
            message_id=message_id or uuid4(),
            occurred_at=at,
        )
        self.keys.add(UUID(key_for(message)))
        topic = topic_for(message)
        topic = bulk(topic) if lane == "bulk" else topic
        await self.producer.send_and_wait(
            topic, value=env.to_json(), key=key_for(message).encode(), headers=env.kafka_headers()
        )
        return env

    async def send_raw(self, topic: str, value: bytes, *, key: bytes) -> None:
        """Produce a record as is (poison)."""
        await self.producer.send_and_wait(topic, value=value, key=key)

    async def wait_for(
        self,
        path: str,
        check: Callable[[httpx.Response], bool],
        timeout: float = 30,  # noqa: ASYNC109 - a polling deadline
        **params: Any,
    ) -> httpx.Response:
        """GET ``path`` until ``check(response)`` holds; returns that response."""

        async def attempt() -> httpx.Response | None:
            answer = await self.http.get(path, params=params)
            return answer if check(answer) else None

        return await eventually(attempt, timeout=timeout, message=f"GET {path} {params} never matched")


def ok(predicate: Callable[[dict[str, Any]], bool]) -> Callable[[httpx.Response], bool]:
    """A ``wait_for`` check: status 200 and ``predicate(body)``."""
    return lambda answer: answer.status_code == 200 and predicate(answer.json())


async def _run(components: Components) -> list[asyncio.Task[None]]:
    return [asyncio.create_task(runner.run()) for runner in components.consumers]


async def _stop(components: Components, tasks: list[asyncio.Task[None]]) -> None:
    for runner in components.consumers:
        runner.stop()
    await asyncio.wait(tasks, timeout=15)
    for task in tasks:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task


@pytest.fixture(scope="session")
async def storefront_it(postgres_server: PostgresAdmin, kafka_bootstrap: str) -> AsyncIterator[StorefrontIT]:
    name = unique_name("storefront_it")
    await postgres_server.create_database_async(name)
    url = postgres_server.sqlalchemy_url(name)
    await asyncio.to_thread(upgrade, url)
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap)
    await ensure_topics(kafka, TOPICS)
    groups = {
        f"{purpose}_group": unique_name(f"storefront.{purpose}.it")
        for purpose in ("catalog", "inventory", "orders", "shipments")
    }
    settings = StorefrontSettings(env="dev", database_url=url, **groups)
    components = build(settings, kafka)
    tasks = await _run(components)
    tap = Tap(kafka, dlq(CATALOG_BOOKS))
    await tap.start()
    producer = AIOKafkaProducer(**kafka.aiokafka_kwargs(), acks="all")
    await producer.start()
    transport = httpx.ASGITransport(app=components.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://storefront") as http:
        yield StorefrontIT(http, components, settings, kafka, url, producer, tap)
    await producer.stop()
    await tap.stop()
    await _stop(components, tasks)
    await components.engine.dispose()
    await postgres_server.drop_database_async(name)


def token() -> str:
    """A unique lowercase word for authors and titles, so filters only see one test's books."""
    return "z" + uuid.uuid4().hex[:10]


Twin = Callable[[str, tuple[str, ...]], Awaitable[tuple[str, Tap]]]


@pytest.fixture
async def twin(storefront_it: StorefrontIT) -> AsyncIterator[Twin]:
    """``await twin(real_topic, models)``: a unique twin of ``real_topic`` and a tap on its DLQ, read by
    one more runner with the service's own handlers of that topic for ``models``.

    A record PostgreSQL refuses stays on its topic for good, and ``projections rebuild`` of the
    session's real topics would count it as failed, so poison goes to a twin instead.
    """
    started: list[tuple[ConsumerRunner, asyncio.Task[None], Tap]] = []

    async def make(real_topic: str, models: tuple[str, ...]) -> tuple[str, Tap]:
        topic = unique_name(f"storefront_it.{real_topic}")
        await create_topic(storefront_it.kafka, topic)
        await create_topic(storefront_it.kafka, dlq(topic), compacted=True)
        runner = ConsumerRunner(
            unique_name("storefront.twin.it"),
            [topic],
            live_handlers(real_topic, models),
            async_sessionmaker(storefront_it.components.engine, expire_on_commit=False),
            storefront_it.kafka,
            backoff_base_s=0.02,
        )
        tap = Tap(storefront_it.kafka, dlq(topic))
        await tap.start()
        started.append((runner, asyncio.create_task(runner.run()), tap))
        return topic, tap

    yield make
    for runner, task, tap in started:
        runner.stop()
        await tap.stop()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(task, timeout=20)
