"""The catalog wired against real PostgreSQL and a Kafka-protocol broker, shared by the session.

One database, one relay and one supplier-feed consumer for all catalog integration tests: the
consumer group and topics have fixed names, so two wired catalogs would split the partitions
between them. Tests use unique ISBNs and ids instead of cleaning up.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord
from bookshelf_catalog.bootstrap import bootstrap
from bookshelf_catalog.config import CatalogSettings
from bookshelf_catalog.migrations import upgrade_async
from bookshelf_infra.pgadmin import PostgresAdmin
from bookshelf_infra.testing import eventually, unique_name
from bookshelf_messaging import KafkaSettings, ensure_topics
from bookshelf_servicekit.runtime import Components
from sqlalchemy.ext.asyncio import AsyncEngine

ADMIN_TOKEN = "integration-admin-token"
SUPPLIER_SECRET = "integration-supplier-secret"
STAFF = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def isbn13() -> str:
    """A fresh valid ISBN-13."""
    digits = [9, 7, 8] + [int(d) for d in str(uuid.uuid4().int)[:9]]
    check = (10 - sum(d * (1 if i % 2 == 0 else 3) for i, d in enumerate(digits)) % 10) % 10
    return "".join(map(str, digits)) + str(check)


def isbn10_of(isbn: str) -> str:
    """The ISBN-10 form (with hyphens) of a 978-prefixed ISBN-13."""
    core = isbn[3:12]
    check = (11 - sum((10 - i) * int(d) for i, d in enumerate(core)) % 11) % 11
    return f"{core[0]}-{core[1:4]}-{core[4:9]}-{'X' if check == 10 else check}"


@dataclass
class Catalog:
    """The running catalog: HTTP client, engine, broker address."""

    http: httpx.AsyncClient
    engine: AsyncEngine
    kafka: KafkaSettings
    components: Components


@contextlib.asynccontextmanager
async def wired_catalog(postgres_server: PostgresAdmin, kafka_bootstrap: str) -> AsyncIterator[Catalog]:
    """A catalog on its own new database: relay and supplier-feed consumer running, ASGI client."""
    name = unique_name("catalog_it")
    postgres_server.create_database(name)
    url = postgres_server.sqlalchemy_url(name)
    await upgrade_async(url)
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap)
    await ensure_topics(kafka)
    settings = CatalogSettings(
        env="dev", database_url=url, admin_token=ADMIN_TOKEN, supplier_webhook_secret=SUPPLIER_SECRET
    )
    components = bootstrap(settings, kafka=kafka, relay_options={"poll_interval_s": 0.2})
    assert components.relay is not None
    runners = [components.relay, *components.consumers]
    tasks = [asyncio.create_task(r.run()) for r in runners]
    await eventually(
        lambda: all(c.is_running for c in components.consumers),  # type: ignore[attr-defined]
        timeout=30,
        message="supplier feed consumer never started",
    )
    transport = httpx.ASGITransport(app=components.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://catalog") as http:
        yield Catalog(http=http, engine=components.engine, kafka=kafka, components=components)
    for runner in runners:
        runner.stop()
    await asyncio.wait(tasks, timeout=15)
    for task in tasks:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
    await components.engine.dispose()
    postgres_server.drop_database(name)


@pytest.fixture(scope="session")
async def catalog(postgres_server: PostgresAdmin, kafka_bootstrap: str) -> AsyncIterator[Catalog]:
    async with wired_catalog(postgres_server, kafka_bootstrap) as wired:
        yield wired


class TopicReader:
    """Reads a topic from the beginning with its own group and keeps every record seen."""

    def __init__(self, kafka: KafkaSettings, topic: str) -> None:
        self.topic = topic
        self.records: list[ConsumerRecord[bytes, bytes]] = []
        self.consumer = AIOKafkaConsumer(
            topic,
            **kafka.aiokafka_kwargs(),
            group_id=unique_name("it_reader"),
            auto_offset_reset="earliest",
            fetch_max_wait_ms=10,
            session_timeout_ms=6000,
            heartbeat_interval_ms=1000,
        )

    async def wait_for(
        self,
        match: Callable[[ConsumerRecord[bytes, bytes]], bool],
        *,
        count: int = 1,
        timeout: float = 30,  # noqa: ASYNC109
    ) -> list[ConsumerRecord[bytes, bytes]]:
        """Poll until ``count`` records match; returns them in topic order."""

        async def enough() -> list[ConsumerRecord[bytes, bytes]] | None:
            batch = await self.consumer.getmany(timeout_ms=200)
            for records in batch.values():
                self.records.extend(records)
            found = [r for r in self.records if match(r)]
            return found if len(found) >= count else None

        found = await eventually(
            enough, timeout=timeout, message=f"{count} matching record(s) on {self.topic}"
        )
        return found


@pytest.fixture
async def read_topic(catalog: Catalog) -> AsyncIterator[Callable[[str], Any]]:
    readers: list[TopicReader] = []

    async def start(topic: str) -> TopicReader:
        reader = TopicReader(catalog.kafka, topic)
        await reader.consumer.start()
        readers.append(reader)
        return reader

    yield start
    for reader in readers:
        await reader.consumer.stop()


def envelope(record: ConsumerRecord[bytes, bytes]) -> dict[str, Any]:
    """The JSON envelope of a record."""
    value: dict[str, Any] = orjson.loads(record.value)
    return value


def data_has(**expected: Any) -> Callable[[ConsumerRecord[bytes, bytes]], bool]:
    """A record matcher on envelope data fields."""

    def match(record: ConsumerRecord[bytes, bytes]) -> bool:
        data = envelope(record).get("data", {})
        return all(data.get(k) == v for k, v in expected.items())

    return match
