"""A burst of ReserveStock through Kafka: partition batches on hot books neither deadlock nor oversell.

The runner handles each partition's batch in one transaction; without the stock writers lock two
batches that lock the same books in different orders deadlock (PostgreSQL aborts one, the runner
re-runs it message by message). Here every handler attempt must succeed the first time.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter
from decimal import Decimal

from bookshelf_contracts import BookAdded, Envelope, Money, ReserveStock, StockLine, key_for
from bookshelf_infra.testing import eventually, unique_name
from bookshelf_inventory.adapters import queries
from prometheus_client import REGISTRY

from .conftest import RunningInventory

BOOKS, COPIES, ORDERS = 4, 60, 240


async def _books(svc: RunningInventory) -> list[uuid.UUID]:
    ids = [uuid.uuid4() for _ in range(BOOKS)]
    price = Money(amount=Decimal("3.00"), currency="USD")
    for book_id in ids:
        await svc.send(BookAdded(book_id=book_id, title="Hot", author="A", price=price, version=1))
    for book_id in ids:
        await eventually(lambda b=book_id: svc.feed.events("InventoryLevelChanged", book_id=b), timeout=30)
    return ids


def _failures(group: str) -> float:
    return sum(
        sample.value
        for metric in REGISTRY.collect()
        if metric.name == "bookshelf_consumer_handler_failures"
        for sample in metric.samples
        if sample.name.endswith("_total") and sample.labels.get("group") == group
    )


async def test_a_burst_of_cross_ordered_reservations(inventory_running: RunningInventory) -> None:
    svc = inventory_running
    books = await _books(svc)
    group = svc.components.settings.commands_group
    failures_before = _failures(group)
    rng = random.Random(7)
    commands = [
        ReserveStock(
            order_id=uuid.uuid4(),
            lines=[StockLine(book_id=b, quantity=1) for b in rng.sample(books, 2)],  # random line order
        )
        for _ in range(ORDERS)
    ]
    topic = svc.topic("inventory.commands")
    sent = []
    for command in commands:  # no await per record: the batch piles up and partitions fill at once
        envelope = Envelope.wrap(command, producer="test", correlation_id=unique_name("burst"))
        sent.append(
            await svc.producer.send(
                topic, envelope.to_json(), key=key_for(command).encode(), headers=envelope.kafka_headers()
            )
        )
    await asyncio.gather(*sent)

    def outcomes() -> Counter[str]:
        counts: Counter[str] = Counter()
        for command in commands:
            if svc.feed.events("StockReserved", order_id=command.order_id):
                counts["reserved"] += 1
            elif svc.feed.events("StockReservationFailed", order_id=command.order_id):
                counts["failed"] += 1
        return counts

    counts = await eventually(lambda: sum(outcomes().values()) == ORDERS and outcomes(), timeout=60)
    assert _failures(group) == failures_before  # no deadlock, no retry
    async with svc.components.app.state.inventory.session_factory() as session:
        levels = [await queries.inventory_of(session, b) for b in books]
        assert await queries.conservation_drift(session) == []
    assert sum(level["reserved"] for level in levels) == 2 * counts["reserved"]
    assert all(level["available"] >= 0 for level in levels)
