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
from bookshelf_infra.testing.service import ServiceHarness, migrated_database, running_service
from bookshelf_infra.testing.tap import Tap, header
from bookshelf_messaging import ConsumerRunner, KafkaSettings, create_topic, ensure_topics
from bookshelf_servicekit.runtime import Components
from bookshelf_storefront.bootstrap import build
from bookshelf_storefront.config import StorefrontSettings
from bookshelf_storefront.entrypoints.consumers import live_handlers
from bookshelf_storefront.migrations import upgrade
from sqlalchemy.ext.asyncio import async_sessionmaker

__all__ = ["StorefrontIT", "Twin", "book_added", "header", "ok", "stock", "token", "usd"]

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


@dataclass
class StorefrontIT(ServiceHarness[Components]):
    """The running service: HTTP client on its app, a producer for the source topics, a DLQ tap."""

    settings: StorefrontSettings
    database_url: str
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
        await self.send_envelope(bulk(topic) if lane == "bulk" else topic, env, key=key_for(message))
        return env

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


@pytest.fixture(scope="session")
async def storefront_it(postgres_server: PostgresAdmin, kafka_bootstrap: str) -> AsyncIterator[StorefrontIT]:
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap)
    await ensure_topics(kafka, TOPICS)
    groups = {
        f"{purpose}_group": unique_name(f"storefront.{purpose}.it")
        for purpose in ("catalog", "inventory", "orders", "shipments")
    }
    async with migrated_database(postgres_server, "storefront_it", upgrade) as url:
        settings = StorefrontSettings(env="dev", database_url=url, **groups)
        async with (
            Tap(kafka, dlq(CATALOG_BOOKS)) as catalog_dlq,
            running_service(
                build(settings, kafka),
                StorefrontIT,
                base_url="http://storefront",
                settings=settings,
                database_url=url,
                catalog_dlq=catalog_dlq,
            ) as storefront,
        ):
            yield storefront


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
        tap = await Tap(storefront_it.kafka, dlq(topic)).start()
        started.append((runner, asyncio.create_task(runner.run()), tap))
        return topic, tap

    yield make
    for runner, task, tap in started:
        runner.stop()
        await tap.stop()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(task, timeout=20)
