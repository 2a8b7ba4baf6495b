"""The shipping service wired against real PostgreSQL and a Kafka-protocol broker, shared by the session.

One database, relay and ``shipping.commands`` consumer (with a test-unique group id, so it never
shares partitions with another wired shipping) for every shipping integration test; tests use unique
order ids instead of cleaning up. Two taps read ``shipping.shipments`` and ``shipping.commands.dlq``
from the beginning in the background, so tests only poll what arrived.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import ConsumerRecord
from bookshelf_contracts import SHIPPING_COMMANDS, SHIPPING_SHIPMENTS, TOPICS, Envelope, Message, dlq
from bookshelf_infra.pgadmin import PostgresAdmin
from bookshelf_infra.testing import eventually, unique_name
from bookshelf_messaging import KafkaSettings, ensure_topics
from bookshelf_servicekit.runtime import Components
from bookshelf_shipping.bootstrap import build
from bookshelf_shipping.config import ShippingSettings
from bookshelf_shipping.migrations import upgrade

ADMIN_TOKEN = "shipping-it-admin-token"
STAFF = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
Record = ConsumerRecord[bytes, bytes]


class Tap:
    """Reads one topic from the beginning with its own group, keeping every record, in a task."""

    def __init__(self, kafka: KafkaSettings, topic: str) -> None:
        self.topic = topic
        self.records: list[Record] = []
        self.consumer = AIOKafkaConsumer(
            topic,
            **kafka.aiokafka_kwargs(),
            group_id=unique_name("shipping_it_tap"),
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

    async def wait_for(
        self,
        match: Callable[[Record], bool],
        *,
        count: int = 1,
        timeout: float = 30,  # noqa: ASYNC109 - a polling deadline, not a cancellation scope
    ) -> list[Record]:
        """Poll until at least ``count`` records match; returns the matches in topic order."""

        def found() -> list[Record] | None:
            hits = [r for r in self.records if match(r)]
            return hits if len(hits) >= count else None

        return await eventually(found, timeout=timeout, message=f"{count} matching record(s) on {self.topic}")


def envelope_of(record: Record) -> dict[str, Any]:
    """The JSON envelope of a record."""
    value: dict[str, Any] = orjson.loads(record.value)
    return value


def event(type_name: str, order_id: UUID) -> Callable[[Record], bool]:
    """Matches the ``type_name`` events of one order."""

    def match(record: Record) -> bool:
        env = envelope_of(record)
        return bool(env["type"] == type_name and env["data"].get("order_id") == str(order_id))

    return match


def header(record: Record, name: str) -> str:
    """A record header as text ('' when absent)."""
    return next((v.decode() for k, v in record.headers if k == name), "")


@dataclass
class ShippingIT:
    """The running shipping service: HTTP client, command producer, taps on its output topics."""

    http: httpx.AsyncClient
    components: Components
    producer: AIOKafkaProducer
    shipments: Tap
    dead_letters: Tap

    async def send(self, command: Message, *, message_id: UUID | None = None) -> Envelope:
        """Produce a command to shipping.commands as the saga would (key: order_id)."""
        env = Envelope.wrap(
            command, producer="fulfillment", correlation_id=str(uuid4()), message_id=message_id or uuid4()
        )
        key = str(getattr(command, "order_id")).encode()  # noqa: B009 - every shipping command has one
        await self.producer.send_and_wait(
            SHIPPING_COMMANDS, value=env.to_json(), key=key, headers=env.kafka_headers()
        )
        return env

    async def send_raw(self, value: bytes, *, key: bytes) -> None:
        """Produce a record as is (a malformed command)."""
        await self.producer.send_and_wait(SHIPPING_COMMANDS, value=value, key=key)


@pytest.fixture(scope="session")
async def shipping_it(postgres_server: PostgresAdmin, kafka_bootstrap: str) -> AsyncIterator[ShippingIT]:
    name = unique_name("shipping_it")
    await postgres_server.create_database_async(name)
    url = postgres_server.sqlalchemy_url(name)
    await asyncio.to_thread(upgrade, url)
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap)
    await ensure_topics(kafka, [s for s in TOPICS if s.name in (SHIPPING_COMMANDS, SHIPPING_SHIPMENTS)])
    settings = ShippingSettings(
        env="dev",
        database_url=url,
        admin_token=ADMIN_TOKEN,
        commands_group=unique_name("shipping.commands.it"),
    )
    components = build(settings, kafka)
    assert components.relay is not None
    runners = [components.relay, *components.consumers]
    tasks = [asyncio.create_task(r.run()) for r in runners]
    taps = [Tap(kafka, SHIPPING_SHIPMENTS), Tap(kafka, dlq(SHIPPING_COMMANDS))]
    await asyncio.gather(*(tap.start() for tap in taps))
    producer = AIOKafkaProducer(**kafka.aiokafka_kwargs(), acks="all")
    await producer.start()
    transport = httpx.ASGITransport(app=components.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://shipping") as http:
        yield ShippingIT(http, components, producer, *taps)
    await producer.stop()
    for tap in taps:
        await tap.stop()
    for runner in runners:
        runner.stop()
    await asyncio.wait(tasks, timeout=15)
    for task in tasks:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
    await components.engine.dispose()
    await postgres_server.drop_database_async(name)
