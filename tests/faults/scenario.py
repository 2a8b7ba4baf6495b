"""The shape every scenario shares: load while faults are injected, settle, fulfil, verdict."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from tests.faults.load import PlacedOrder, Shop
from tests.faults.settle import settle
from tests.faults.verdict import Outcome, verdict

# `make test` runs the short profile (fewer orders and fault rounds), `make test-faults` the full one.
SHORT = os.environ.get("BOOKSHELF_FAULTS_PROFILE", "full") == "short"
# Orders per scenario (waves keep coming while faults are injected, up to this many).
ORDERS = int(os.environ.get("BOOKSHELF_FAULTS_ORDERS", "30" if SHORT else "120"))
WAVE = 20


async def load_during(
    shop: Shop, tag: str, inject: Callable[[], Awaitable[int]], *, seed: int, minimum: int = WAVE
) -> tuple[list[PlacedOrder], int]:
    """Place orders in waves while ``inject()`` runs (at least ``minimum``, at most ORDERS); returns
    the orders and the faults ``inject`` reports."""
    done = asyncio.Event()
    placed: list[PlacedOrder] = []

    async def waves() -> None:
        wave = 0
        while len(placed) < ORDERS and (not done.is_set() or len(placed) < minimum):
            size = min(WAVE, ORDERS - len(placed))
            placed.extend(await shop.drive(tag, size, seed=seed * 1000 + wave))
            wave += 1

    load = asyncio.create_task(waves())
    try:
        faults = await inject()
    except BaseException:
        load.cancel()  # a failed injection must not leave orders flowing into the next scenario
        raise
    finally:
        done.set()
    await load
    return placed, faults


async def finish(shop: Shop, scenario: str, tag: str, faults: int, **kwargs: Any) -> Outcome:
    """Settle, dispatch and deliver half of the scenario's confirmed orders, then the verdict."""
    await settle(shop)
    orders = shop.ledger.tagged(tag)
    await shop.fulfil(orders, seed=len(orders))
    return await verdict(shop, scenario, len(orders), faults, **kwargs)


async def ready_status(client: httpx.AsyncClient, url: str) -> int | None:
    """GET /readyz status, or None when the process does not answer."""
    try:
        return (await client.get(f"{url}/readyz", timeout=5.0)).status_code
    except httpx.HTTPError:
        return None


async def metric(client: httpx.AsyncClient, url: str, name: str) -> float:
    """Sum of a Prometheus metric's samples on a process's /metrics (0 when absent or unreachable)."""
    try:
        text = (await client.get(f"{url}/metrics", timeout=5.0)).text
    except httpx.HTTPError:
        return 0.0
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and not line.startswith("#"):
            head, _, value = line.rpartition(" ")
            if head.split("{")[0] == name:
                total += float(value)
    return total


async def probe_until(
    shop: Shop, names: list[str], wanted: int, within: float
) -> dict[str, list[int | None]]:
    """Poll every process's /readyz until each answered ``wanted``; returns every status seen."""
    seen: dict[str, list[int | None]] = {n: [] for n in names}
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for name in names:
            seen[name].append(await ready_status(shop.client, shop.cluster.procs[name].url))
        if all(wanted in statuses for statuses in seen.values()):
            return seen
        await asyncio.sleep(0.2)  # probing interval
    missing = [n for n, s in seen.items() if wanted not in s]
    raise AssertionError(
        f"never {wanted} from /readyz of {missing}: { ({n: seen[n][-5:] for n in missing}) }"
    )
