"""The catalog replica consumer as a batch handler: runs of catalog events in one call and one statement.

Each test produces its events together into one partition of a unique twin of ``catalog.books``,
read by a runner with the service's own replica batch handler, so they arrive in one fetch and one
handler call. (A record PostgreSQL refuses stays on its topic for good; on the real topic it would
reach every other consumer of the session.)
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiokafka.structs import ConsumerRecord
from bookshelf_contracts import (
    BookAdded,
    BookDetailsUpdated,
    BookPriceUpdated,
    Envelope,
    Message,
    dlq,
    key_for,
)
from bookshelf_contracts.testing import usd
from bookshelf_infra.testing import eventually, unique_name
from bookshelf_infra.testing.tap import Tap
from bookshelf_messaging import BatchHandler, ConsumerRunner, KafkaSettings, create_topic
from bookshelf_ordering.entrypoints.consumers import replica_batch_handler
from bookshelf_ordering.service_layer.replica import EVENT_HANDLERS

from .conftest import OrderingHarness
from .test_ordering_catalog_replica import replica_row


def added(book_id: uuid.UUID, title: str = "Dune", amount: str = "12.99") -> BookAdded:
    return BookAdded(book_id=book_id, title=title, author="Frank Herbert", price=usd(amount), version=1)


def details(book_id: uuid.UUID, title: str, amount: str, version: int) -> BookDetailsUpdated:
    return BookDetailsUpdated(
        book_id=book_id, title=title, author="Frank Herbert", price=usd(amount), version=version
    )


def price(book_id: uuid.UUID, amount: str, version: int) -> BookPriceUpdated:
    return BookPriceUpdated(book_id=book_id, old_price=usd("12.99"), new_price=usd(amount), version=version)


@dataclass
class Twin:
    """A twin of catalog.books, its dead letters, and a way to produce a batch into it."""

    ordering: OrderingHarness
    topic: str
    letters: list[ConsumerRecord[bytes, bytes]] = field(default_factory=list)

    async def send_together(self, messages: list[Message], ids: dict[int, uuid.UUID] | None = None) -> None:
        """Produce in order into partition 0 without waiting in between; ``ids``: chosen message ids."""
        futures = []
        for i, message in enumerate(messages):
            env = Envelope.wrap(
                message, producer="test", correlation_id=str(uuid.uuid4()), message_id=(ids or {}).get(i)
            )
            futures.append(
                await self.ordering.producer.send(
                    self.topic,
                    env.to_json(),
                    key=key_for(message).encode(),
                    headers=env.kafka_headers(),
                    partition=0,
                )
            )
        await asyncio.gather(*futures)


@pytest.fixture
async def twin(ordering: OrderingHarness, kafka_bootstrap: str) -> AsyncIterator[Twin]:
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap)
    topic = unique_name("ordering_it.catalog")
    await create_topic(kafka, topic)
    await create_topic(kafka, dlq(topic), compacted=True)
    handlers = dict.fromkeys((event.TYPE for event in EVENT_HANDLERS), replica_batch_handler(ordering.outbox))
    factory = ordering.components.app.state.ordering.session_factory
    group = unique_name("ordering.twin-replica.it")
    runner = ConsumerRunner(group, [topic], handlers, factory, kafka, backoff_base_s=0.02)
    task = asyncio.create_task(runner.run())
    async with Tap(kafka, dlq(topic)) as letters:
        yield Twin(ordering, topic, letters.records)
        runner.stop()
    await asyncio.wait_for(task, timeout=20)


async def row_when(
    ordering: OrderingHarness, book_id: uuid.UUID, title_version: int, price_version: int
) -> Any:
    async def check() -> Any:
        row = await replica_row(ordering, book_id)
        ok = row is not None and (row["title_version"], row["price_version"]) == (
            title_version,
            price_version,
        )
        return row if ok else None

    return await eventually(check, timeout=30, message=f"replica row of {book_id} never reached the versions")


def test_every_replica_event_type_shares_one_batch_handler(ordering: OrderingHarness) -> None:
    handler = replica_batch_handler(ordering.outbox)
    assert isinstance(handler, BatchHandler)
    runner = next(r for r in ordering.components.consumers if "catalog" in r.group_id)
    handlers = {name: runner.processor.handlers[name] for name in ("BookAdded", "BookPriceUpdated")}
    assert isinstance(handlers["BookAdded"], BatchHandler)
    assert handlers["BookAdded"] is handlers["BookPriceUpdated"]  # a run of mixed types is one call


async def test_several_events_for_one_book_in_a_batch_end_in_the_last_state(
    ordering: OrderingHarness, twin: Twin
) -> None:
    book = uuid.uuid4()
    await twin.send_together(
        [
            added(book),
            price(book, "15.00", 2),
            details(book, "Dune (Deluxe)", "15.00", 3),
            price(book, "17.50", 4),
        ]
    )
    row = await row_when(ordering, book, 3, 4)
    assert (row["title"], str(row["price_amount"]), row["currency"]) == ("Dune (Deluxe)", "17.50", "USD")


async def test_stale_and_duplicate_events_inside_a_batch_change_nothing(
    ordering: OrderingHarness, twin: Twin
) -> None:
    book, marker = uuid.uuid4(), uuid.uuid4()
    first = uuid.uuid4()
    await twin.send_together(
        [
            added(book),
            details(book, "Dune II", "18.00", 3),
            price(book, "20.00", 4),
            details(book, "Stale", "1.00", 2),  # older than what the batch already applied
            price(book, "2.00", 3),  # older price
            price(book, "20.00", 4),  # republished under a new message id
            added(book),  # redelivery of the first message (same message id)
            added(marker, "Marker"),
        ],
        ids={0: first, 6: first},
    )
    await row_when(ordering, marker, 1, 1)  # behind every event above in the same partition
    row = await replica_row(ordering, book)
    assert (row["title"], str(row["price_amount"])) == ("Dune II", "20.00")
    assert (row["title_version"], row["price_version"]) == (3, 4)


async def test_a_poison_event_in_a_batch_is_dead_lettered_alone(
    ordering: OrderingHarness, twin: Twin
) -> None:
    before, poison, after = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    # A valid contract PostgreSQL refuses (NUL in text): the batch fails, then this message alone.
    await twin.send_together([added(before, "Before"), added(poison, "Poison \x00"), added(after, "After")])
    assert (await row_when(ordering, before, 1, 1))["title"] == "Before"
    assert (await row_when(ordering, after, 1, 1))["title"] == "After"

    def letter() -> ConsumerRecord[bytes, bytes] | None:
        return next(iter(twin.letters), None)

    dead = await eventually(letter, timeout=30, message="no dead letter")
    headers = {name: (value or b"").decode() for name, value in dead.headers}
    assert headers["dlq.original_key"] == str(poison)
    # The batch failed, then the message ran alone once: a data error (NUL, SQLSTATE class 22) is
    # dead-lettered at once instead of being retried.
    assert int(headers["dlq.attempts"]) == 1
    assert "0x00" in headers["dlq.error_message"]
    assert await replica_row(ordering, poison) is None
    assert len(twin.letters) == 1  # only the poison; the others of its batch were applied
