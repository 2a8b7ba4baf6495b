"""Settling: wait (poll with a deadline) until nothing is moving any more.

Settled means: every outbox is published, every consumer group has consumed everything (lag from
`bookshelf status --json`), and every order is DELIVERED, CANCELLED, or CONFIRMED with its saga
waiting for the staff to dispatch. What still moves at the deadline is returned, not raised: the
scenario reports it as stuck.
"""

from __future__ import annotations

import asyncio
import time

import orjson

from tests.faults.cluster import Cluster
from tests.faults.load import Shop
from tests.faults.world import observe, open_orders, outbox_backlogs

IGNORED_GROUPS = ("observatory.",)  # not started by the harness


def consumer_lag(cluster: Cluster) -> list[str]:
    """Consumer groups and topics with records waiting, from `bookshelf status --json`."""
    result = cluster.cli("status", "--json", timeout=120)
    if result.returncode != 0:
        return [f"bookshelf status failed ({result.returncode}): {result.stderr[-500:]}"]
    report = orjson.loads(result.stdout)
    return [
        f"{row['group']} {row['topic']}: {row['lag_records']} waiting, {row['unknown_partitions']} unknown"
        for row in report["consumer_groups"]
        if not row["group"].startswith(IGNORED_GROUPS)
        and (row["lag_records"] != 0 or row["unknown_partitions"])
    ]


async def moving(shop: Shop, order_ids: list[str]) -> list[str]:
    """What is still in flight: outbox rows, orders; consumer lag once those are quiet."""
    try:
        backlogs = await outbox_backlogs(shop)
        world = await observe(shop, per_order=False)
    except Exception as exc:  # a service still recovering: not settled yet
        return [f"cannot observe yet: {type(exc).__name__}: {exc}"]
    found = [f"outbox of {s}: {n} unpublished" for s, n in backlogs.items() if n]
    found += open_orders(world, order_ids)
    if not found:
        found = await asyncio.to_thread(consumer_lag, shop.cluster)
    return found


async def settle(shop: Shop, order_ids: list[str] | None = None, *, within: float = 240.0) -> list[str]:
    """Poll until nothing moves (returns []) or the deadline passes (returns what still moves)."""
    ids = order_ids if order_ids is not None else sorted(shop.ledger.orders)
    deadline = time.monotonic() + within
    while True:
        found = await moving(shop, ids)
        if not found or time.monotonic() >= deadline:
            return found
        await asyncio.sleep(0.5)  # polling interval
