"""A saga worker killed in the middle of sagas comes back (supervised by `bookshelf run`) and finishes them."""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncIterator

import httpx
import psutil
import pytest

from tests.e2e.system import RunningSystem, Shop

INITIAL_STOCK = 10
BACKLOG_BOOKS = 6


@pytest.fixture
async def shop(running_system: RunningSystem) -> AsyncIterator[Shop]:
    async with httpx.AsyncClient(timeout=10.0) as client:
        yield Shop(running_system, client)


def fulfillment_worker(system: RunningSystem) -> psutil.Process:
    """The `python -m bookshelf_fulfillment` child of the `bookshelf run` process."""
    for child in psutil.Process(system.process.pid).children(recursive=True):
        try:
            cmdline = child.cmdline()
        except psutil.Error:
            continue
        if "-m" in cmdline and "bookshelf_fulfillment" in cmdline and child.is_running():
            return child
    raise AssertionError("bookshelf run has no running fulfillment worker")


async def _worker_back(shop: Shop, killed_pid: int) -> int:
    worker = fulfillment_worker(shop.system)
    assert worker.pid != killed_pid, "not restarted yet"
    ready = await shop.client.get(f"{shop.system.url('fulfillment')}/readyz")
    assert ready.status_code == 200, ready.text
    return worker.pid


@pytest.mark.timeout(600)  # a worker restart (group join, table recovery) is slow on a busy machine
async def test_a_killed_worker_resumes_and_finishes_the_sagas_in_flight(shop: Shop) -> None:
    book = await shop.add_book("Restart")
    first = (await shop.place_order([(book, 2)]))["order_id"]
    await shop.wait_saga(first, "AWAITING_DISPATCH")
    shipment = await shop.shipment(first)

    victim = fulfillment_worker(shop.system)
    os.kill(victim.pid, signal.SIGKILL)  # no shutdown, no offset commit: a crash
    victim.wait(10)
    # While the worker is down: the first saga's shipment leaves, a second order is placed, and a
    # backlog builds up on every partition (the restarted worker once skipped such a backlog when it
    # was fetched during its seek to the committed offsets; docs/reliability.md).
    await shop.staff_move(shipment["shipment_id"], "dispatch")
    second = (await shop.place_order([(book, 3)]))["order_id"]
    others = [await shop.add_book(f"Backlog {n}") for n in range(BACKLOG_BOOKS)]
    backlog = [(await shop.place_order([(other, 1)]))["order_id"] for other in others for _ in range(3)]

    await shop.wait_for(lambda: _worker_back(shop, victim.pid), "the worker never came back", within=180)
    await shop.wait_order(first, "SHIPPED", within=60)
    await shop.wait_saga(second, "AWAITING_DISPATCH", within=60)
    for order_id in backlog:
        await shop.wait_saga(order_id, "AWAITING_DISPATCH", within=60)
    await shop.staff_move(shipment["shipment_id"], "deliver")
    await shop.wait_order(first, "DELIVERED")

    saga = await shop.wait_saga(first, "DELIVERED")
    transitions = [h["action"].rsplit("-> ", 1)[1] for h in saga["history"] if "->" in h["action"]]
    assert transitions == ["AWAITING_STOCK", "AWAITING_SHIPMENT", "AWAITING_DISPATCH", "SHIPPED", "DELIVERED"]

    async def committed_once() -> bool:
        stock = await shop.stock(book)
        # 2 left with the first order (committed exactly once), 3 held for the second.
        assert (stock["on_hand"], stock["reserved"]) == (INITIAL_STOCK - 2, 3), stock
        return True

    await shop.wait_for(committed_once, "stock does not show one commit and one open reservation")
