"""Scenario 7: the saga worker is SIGKILLed at random points under load, 50 times (8 in the short
profile): while it starts, joins its group, handles batches, runs its timer and its relay; it is
started again at once each time, as its supervisor would. Orders, staff dispatches and deliveries keep
coming. Afterwards every order is DELIVERED, CANCELLED, or CONFIRMED with its saga in
AWAITING_DISPATCH; no order lacks its saga, no saga transition or command took effect twice, and
`bookshelf audit` is clean (the shared verdict checks all of it).

Run it alone with ``pytest tests/faults/test_s7_saga_worker_kills.py`` (it starts its own system);
``BOOKSHELF_SAGA_KILLS`` overrides the number of kills.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random

import pytest
from bookshelf_infra.testing import eventually

from tests.faults.cluster import Cluster
from tests.faults.load import PlacedOrder, Shop
from tests.faults.scenario import SHORT, finish, ready_status
from tests.faults.verdict import conclude

KILLS = int(os.environ.get("BOOKSHELF_SAGA_KILLS", "8" if SHORT else "50"))
MAX_ORDERS = 60 if SHORT else 240
TAG = "s7"


async def load(shop: Shop, stop: asyncio.Event, seed: int) -> None:
    """Waves of 4 orders about every second until ``stop`` (at most MAX_ORDERS), each followed by the
    staff moving the shipments of the wave before (dispatch, deliver) so every hop of the saga runs."""
    previous: list[PlacedOrder] = []
    wave = 0
    while not stop.is_set():
        if len(shop.ledger.tagged(TAG)) < MAX_ORDERS:
            placed = await shop.drive(TAG, 4, seed=seed * 1000 + wave)
        else:
            placed = []
        await shop.fulfil(previous, seed=wave, share=0.7)
        previous = placed
        wave += 1
        with contextlib.suppress(TimeoutError):  # pacing of the load, not a wait for a result
            await asyncio.wait_for(stop.wait(), 1.0)


async def kill_at_random(shop: Shop, cluster: Cluster, rng: random.Random, index: int) -> str:
    """One kill: every other one once the worker is ready and busy, the others while it starts."""
    proc = cluster.procs["fulfillment"]
    if index % 2 == 0:
        await eventually(
            lambda: _ready(shop, proc.url),
            timeout=180,
            interval=0.2,
            message="the saga worker never got ready",
        )
        phase = "running"
    else:
        phase = "starting"
    await asyncio.sleep(rng.uniform(0.0, 3.0))  # the random point of the kill, by design
    await asyncio.to_thread(cluster.kill, "fulfillment")
    await asyncio.to_thread(cluster.start_proc, "fulfillment", wait=False)
    return phase


async def _ready(shop: Shop, url: str) -> bool:
    return await ready_status(shop.client, url) == 200


@pytest.mark.timeout(1800)
async def test_saga_worker_sigkilled_at_random_points_under_load(shop: Shop, cluster: Cluster) -> None:
    rng = random.Random(7)
    stop = asyncio.Event()
    traffic = asyncio.create_task(load(shop, stop, seed=7))
    phases: list[str] = []
    try:
        for index in range(KILLS):
            phases.append(await kill_at_random(shop, cluster, rng, index))
        await asyncio.to_thread(cluster.procs["fulfillment"].wait_ready)
    finally:
        stop.set()
        await traffic
    outcome = await finish(shop, "7 saga worker SIGKILL at random points", TAG, KILLS, rebuild=False)
    outcome.facts |= {"kills_running": phases.count("running"), "kills_starting": phases.count("starting")}
    conclude(cluster, outcome)
