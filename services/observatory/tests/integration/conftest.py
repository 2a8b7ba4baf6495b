"""The observatory against real PostgreSQL and a Kafka-protocol broker.

Each test gets its own database (migrated), its own topics (``<unique>.orders`` and friends, with their
``.dlq``), an indexer with its own group over just those topics, and an HTTP client on the app.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
import sqlalchemy as sa
from aiokafka.structs import ConsumerRecord
from bookshelf_contracts import Envelope, Message
from bookshelf_infra.testing import TestDatabase, eventually, unique_name
from bookshelf_infra.testing.service import ServiceHarness, running_service
from bookshelf_messaging import KafkaSettings, create_topic
from bookshelf_messaging.dlq import Failure, build_dead_letter
from bookshelf_observatory.bootstrap import build
from bookshelf_observatory.config import ObservatorySettings
from bookshelf_observatory.migrations import upgrade
from bookshelf_servicekit.runtime import Components

ADMIN_TOKEN = "observatory-it-admin-token"
STAFF = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
TRACE_UI_URL = "http://tracing.example/trace/{trace_id}"


@dataclass
class ObservatoryIT(ServiceHarness[Components]):
    """A wired observatory over test-unique topics; ``http`` sends no credentials, ``staff`` the token."""

    orders: str
    commands: str
    staff: httpx.AsyncClient

    @property
    def base(self) -> str:
        """The unique prefix of this test's topics."""
        return self.orders.removesuffix(".orders")

    @property
    def topics(self) -> list[str]:
        return [self.orders, f"{self.orders}.dlq", self.commands, f"{self.commands}.dlq"]

    async def send(
        self,
        topic: str,
        message: Message,
        *,
        correlation_id: str,
        causation: Envelope | None = None,
        producer: str = "it",
        envelope: Envelope | None = None,
        extra_headers: list[tuple[str, bytes]] | None = None,
    ) -> tuple[Envelope, ConsumerRecord[bytes, bytes]]:
        """Produce an envelope (key: the message's order_id) and return it with its record coordinates."""
        env = envelope or Envelope.wrap(
            message,
            producer=producer,
            correlation_id=correlation_id,
            causation_id=causation.message_id if causation else None,
        )
        key = str(getattr(message, "order_id")).encode()  # noqa: B009 - every message here has one
        headers = env.kafka_headers() + (extra_headers or [])
        meta = await self.producer.send_and_wait(topic, value=env.to_json(), key=key, headers=headers)
        record = ConsumerRecord(
            topic, meta.partition, meta.offset, meta.timestamp, 0, key, env.to_json(), None, 0, 0, headers
        )
        return env, record

    async def dead_letter(self, record: ConsumerRecord[bytes, bytes], group: str) -> str:
        """Write the dead letter a consumer runner would write for ``record``; returns the entry id."""
        now = datetime.now(UTC)
        failure = Failure(ValueError("boom: no such book"), 4, now, now)
        letter = build_dead_letter(record, group, failure)
        await self.producer.send_and_wait(
            letter.topic, value=letter.value, key=letter.key.encode(), headers=letter.headers
        )
        return letter.key

    async def rows(self, sql: str, **params: Any) -> list[Any]:
        async with self.components.engine.connect() as conn:
            return list(await conn.execute(sa.text(sql), params))

    async def indexed(self, count: int, where: str = "TRUE", **params: Any) -> list[Any]:
        """Poll until ``count`` index rows of this test's topics match ``where``."""
        sql = f'SELECT * FROM messages WHERE topic = ANY(:topics) AND {where} ORDER BY record_ts, "offset"'

        async def enough() -> list[Any] | None:
            found = await self.rows(sql, topics=self.topics, **params)
            return found if len(found) >= count else None

        return await eventually(enough, timeout=30, message=f"{count} indexed rows where {where}")


async def _topics(kafka: KafkaSettings) -> tuple[str, str]:
    base = unique_name("obs_it")
    orders, commands = f"{base}.orders", f"{base}.commands"
    for name in (orders, commands):
        await create_topic(kafka, name, partitions=3)
        await create_topic(kafka, f"{name}.dlq", partitions=3, compacted=True)
    return orders, commands


@pytest.fixture
async def observatory_it(database: TestDatabase, kafka_bootstrap: str) -> AsyncIterator[ObservatoryIT]:
    await asyncio.to_thread(upgrade, database.url)
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap)
    orders, commands = await _topics(kafka)
    settings = ObservatorySettings(
        env="dev",
        database_url=database.url,
        admin_token=ADMIN_TOKEN,
        indexer_group=unique_name("observatory.indexer.it"),
        index_fetch_wait_ms=10,
        services="fulfillment=http://127.0.0.1:9",
        live_interval_s=0.2,
        live_stream_s=30,
        trace_ui_url=TRACE_UI_URL,
    )
    components = build(settings, kafka, topics=[orders, f"{orders}.dlq", commands, f"{commands}.dlq"])
    transport = httpx.ASGITransport(app=components.app)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://observatory", headers=STAFF) as staff,
        running_service(
            components,
            ObservatoryIT,
            base_url="http://observatory",
            orders=orders,
            commands=commands,
            staff=staff,
        ) as observatory,
    ):
        yield observatory


def new_order_id() -> UUID:
    return uuid4()
