"""Scenario 5: saga deadlines expire under load. The saga worker restarts with a 3 s
FULFILLMENT_TIMEOUT_S and shipping is stopped, so sagas wait in AWAITING_SHIPMENT until their
deadline cancels them (release stock, cancel shipment, cancel order). Shipping then comes back and
handles CreateShipment followed by CancelShipment: no shipment may stay CREATED, no stock held."""

from __future__ import annotations

import asyncio

import pytest
from bookshelf_infra.testing import eventually

from tests.faults.cluster import Cluster
from tests.faults.load import Shop
from tests.faults.scenario import finish, load_during
from tests.faults.verdict import conclude

SHORT = {"FULFILLMENT_TIMEOUT_S": "3", "FULFILLMENT_DEADLINE_CHECK_INTERVAL_S": "0.5"}


async def restart_saga_worker(cluster: Cluster, env: dict[str, str]) -> None:
    await asyncio.to_thread(cluster.terminate, "fulfillment")
    await asyncio.to_thread(cluster.start_proc, "fulfillment", env=env)


async def all_cancelled(shop: Shop, tag: str) -> bool:
    for order in shop.ledger.tagged(tag):
        status = (await shop.get("ordering", f"/orders/{order.order_id}"))["status"]
        assert status == "CANCELLED", f"{order.order_id} is {status}"
    return True


async def timed_out(shop: Shop, tag: str) -> int:
    sagas = [await shop.get("fulfillment", f"/fulfillments/{o.order_id}") for o in shop.ledger.tagged(tag)]
    return sum(1 for s in sagas if "timed out" in (s.get("cancel_reason") or ""))


@pytest.mark.timeout(900)
async def test_saga_deadlines_expire_under_load(shop: Shop, cluster: Cluster) -> None:
    await restart_saga_worker(cluster, SHORT)
    await asyncio.to_thread(cluster.terminate, "shipping")
    try:

        async def inject() -> int:  # the deadlines are the faults; they fire while the load runs
            return 0

        await load_during(shop, "s5", inject, seed=5, minimum=60)
        await eventually(
            lambda: all_cancelled(shop, "s5"), timeout=120, interval=0.5, message="orders not all cancelled"
        )
    finally:
        await asyncio.to_thread(cluster.start_proc, "shipping")
        await restart_saga_worker(cluster, {})
    expired = await timed_out(shop, "s5")
    outcome = await finish(shop, "5 saga deadline expiry under load", "s5", expired)
    outcome.facts["sagas_timed_out"] = expired
    conclude(cluster, outcome)
    assert expired > 0, "no saga deadline fired"
