"""Scenario 2: consumer processes and the saga worker are SIGKILLed in the middle of batches (while
they have records fetched and not yet committed) and restarted. At-least-once redelivery follows;
the inbox (services) and idempotent transitions (saga) must absorb it."""

from __future__ import annotations

import asyncio

import pytest
from bookshelf_infra.testing import eventually

from tests.faults.cluster import Cluster
from tests.faults.load import Shop
from tests.faults.scenario import SHORT, finish, load_during, metric
from tests.faults.verdict import conclude

VICTIMS = ("inventory-consumers", "fulfillment", "ordering-consumers", "shipping", "storefront-query")
VICTIMS = VICTIMS[:3] if SHORT else VICTIMS
ROUNDS = 1 if SHORT else 2


async def busy(shop: Shop, name: str) -> bool:
    """True while the process has records waiting (lag gauge > 0); the saga worker has no gauge,
    so for it: while orders are moving through sagas (orders placed in the last moments)."""
    if name == "fulfillment":
        return True
    return await metric(shop.client, shop.cluster.procs[name].url, "bookshelf_consumer_lag") > 0


async def kill_mid_batch(shop: Shop, cluster: Cluster, name: str) -> bool:
    """SIGKILL ``name`` once it has work in flight (or after 20 s of load regardless); restart it.
    Returns whether it was caught with records waiting."""
    try:
        caught = bool(await eventually(lambda: busy(shop, name), timeout=20, interval=0.05))
    except AssertionError:
        caught = False
    cluster.kill(name)
    await asyncio.to_thread(cluster.start_proc, name)
    return caught


@pytest.mark.timeout(900)
async def test_consumers_and_saga_worker_killed_mid_batch(shop: Shop, cluster: Cluster) -> None:
    caught: list[bool] = []

    async def inject() -> int:
        for _ in range(ROUNDS):
            for name in VICTIMS:
                caught.append(await kill_mid_batch(shop, cluster, name))
        return len(caught)

    _, faults = await load_during(shop, "s2", inject, seed=2, minimum=60)
    outcome = await finish(shop, "2 consumers and saga worker SIGKILL mid-batch", "s2", faults)
    outcome.facts["killed_with_records_waiting"] = sum(caught)
    conclude(cluster, outcome)
    assert sum(caught) >= len(caught) // 3, outcome.summary()  # kills that hit work in flight
