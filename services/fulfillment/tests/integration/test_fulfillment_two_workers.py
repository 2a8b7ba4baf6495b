"""Two worker processes share the input partitions without any double effect: a burst handled by two
workers leaves exactly what one worker leaves (instances, history, commands, inbox)."""

from __future__ import annotations

import random
from collections import Counter
from uuid import uuid4

import asyncpg
import bookshelf_contracts as c
import httpx
import pytest
from bookshelf_infra.testing import eventually

from .conftest import SagaSystem, created, envelope, placed, publish, reserved

ORDERS = 120


def phases(seed: int) -> list[list[c.Envelope]]:
    """Three bursts, each on one input topic so that it is causal whatever the interleaving of topics:
    orders placed (a quarter cancelled by the customer, some confirmations echoed), then stock
    reserved for the others, then their shipments created. Each burst delivers 30 messages twice."""
    rng = random.Random(seed)
    orders = [uuid4() for _ in range(ORDERS)]
    cancelled = set(orders[::4])
    first: list[c.Envelope] = [envelope(placed(o)) for o in orders]
    for order_id in orders:
        if order_id in cancelled:
            first.append(
                envelope(c.OrderCancellationRequested(order_id=order_id, reason="customer", version=2))
            )
        elif rng.random() < 0.5:
            first.append(envelope(c.OrderConfirmed(order_id=order_id, version=2)))
    second = [envelope(reserved(o)) for o in orders if o not in cancelled]
    third = [envelope(created(o)) for o in orders if o not in cancelled]
    return [burst + rng.sample(burst, 30) for burst in (first, second, third)]


async def snapshot(system: SagaSystem) -> dict[str, object]:
    """Everything the burst left, read in one snapshot (a transaction may commit between two reads)."""
    conn = await asyncpg.connect(system.dsn)
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            states = Counter(r["state"] for r in await conn.fetch("SELECT state FROM fulfillments"))
            history = Counter(r["event"] for r in await conn.fetch("SELECT event FROM fulfillment_history"))
            outbox = await conn.fetch("SELECT value, published_at FROM outbox")
            inbox = await conn.fetchval("SELECT count(*) FROM inbox")
    finally:
        await conn.close()
    envelopes = [c.Envelope.from_json(bytes(r["value"])) for r in outbox]
    return {
        "states": dict(states),
        "history": dict(history),
        "commands": dict(Counter(e.type for e in envelopes)),
        "command_ids": len({e.message_id for e in envelopes}),
        "inbox": inbox,
        "unpublished": sum(1 for r in outbox if r["published_at"] is None),
    }


async def settled(system: SagaSystem, expected_inbox: int) -> dict[str, object]:
    async def done() -> dict[str, object]:
        now = await snapshot(system)
        assert now["inbox"] == expected_inbox, now
        assert now["unpublished"] == 0, now
        return now

    return await eventually(done, timeout=180, interval=0.5, message="the burst was never fully handled")


@pytest.mark.timeout(600)
async def test_two_workers_leave_exactly_what_one_worker_leaves(saga_system: SagaSystem) -> None:
    pair = [saga_system.worker(FULFILLMENT_TIMEOUT_S="600") for _ in range(2)]
    single = SagaSystem(saga_system.bootstrap, saga_system.postgres, saga_system.home)
    try:
        alone = single.worker(FULFILLMENT_TIMEOUT_S="600")
        for worker in [*pair, alone]:
            worker.start()
        for worker in [*pair, alone]:
            await worker.wait_ready()

        async def shared() -> bool:
            async with httpx.AsyncClient(timeout=5) as client:
                counts = [(await client.get(f"{w.url}/readyz")).json()["assigned_partitions"] for w in pair]
            assert all(counts), counts
            assert sum(counts) == 18, counts  # 3 inputs x 6 partitions, split between the two
            return True

        await eventually(
            shared, timeout=60, interval=0.5, message="the two workers never shared the partitions"
        )
        distinct: set[object] = set()
        for burst in phases(seed=15):
            await publish(saga_system.bootstrap, burst)
            distinct |= {m.message_id for m in burst}
            two = await settled(saga_system, len(distinct))
            one = await settled(single, len(distinct))
            assert two == one
    finally:
        single.stop()

    quarter = ORDERS // 4
    assert two["states"] == {"AWAITING_DISPATCH": ORDERS - quarter, "CANCELLED": quarter}
    assert two["command_ids"] == sum(two["commands"].values())  # type: ignore[union-attr]
    assert two["commands"] == {
        "ReserveStock": ORDERS,
        "ReleaseStock": quarter,
        "CancelOrder": quarter,  # a request in AWAITING_STOCK: release and cancel at once
        "ConfirmOrder": ORDERS - quarter,
        "CreateShipment": ORDERS - quarter,
    }
