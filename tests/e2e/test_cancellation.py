"""A customer cancel that lands right after the dispatch, before ordering heard of it (docs/saga.md
"Customer cancel"): the saga decides, the goods that left are never released. And a late reservation
after the saga ended is compensated.

Processes of `bookshelf run` are paused with SIGSTOP (and resumed with SIGCONT): the supervisor only
restarts processes that exit, so a paused one simply stops reading until it is resumed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import orjson
import psutil
import pytest

from tests.e2e.system import RunningSystem, Shop

INITIAL_STOCK = 10
REFUSAL = "cancellation refused: already dispatched"


@pytest.fixture
async def shop(running_system: RunningSystem) -> AsyncIterator[Shop]:
    async with httpx.AsyncClient(timeout=10.0) as client:
        yield Shop(running_system, client)


def service_process(system: RunningSystem, module: str) -> psutil.Process:
    """The `python -m <module>` child of the `bookshelf run` process."""
    for child in psutil.Process(system.process.pid).children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if "-m" in child.cmdline() and module in child.cmdline() and child.is_running():
                return child
    raise AssertionError(f"bookshelf run has no running {module}")


@contextlib.contextmanager
def paused(system: RunningSystem, module: str) -> Iterator[None]:
    """SIGSTOP the service's process for the block, SIGCONT afterwards (also when the block fails)."""
    process = service_process(system, module)
    os.kill(process.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(process.pid, signal.SIGCONT)


async def _cancel(shop: Shop, order: dict[str, Any]) -> httpx.Response:
    own = {"Authorization": f"Bearer {order['access_token']}"}  # the customer's own token
    url = f"{shop.system.url('ordering')}/orders/{order['order_id']}/cancel"
    return await shop.client.post(url, headers=own)


async def _settled_as_shipped(
    shop: Shop, order_id: str, book: str, quantity: int, *, requested: bool = True
) -> None:
    """The cancel was refused: stock committed (never released), shipment DISPATCHED, order SHIPPED
    (with the request and the refusal in its history when ``requested``: the cancel was taken as a
    request, not answered 409), the saga SHIPPED, and `bookshelf audit` clean."""
    order = await shop.wait_order(order_id, "SHIPPED", within=90)
    reasons = [(h["status"], h["reason"]) for h in order["history"]]
    if requested:
        assert ("CONFIRMED", "cancellation requested (customer request)") in reasons
        assert reasons[-1] == ("SHIPPED", REFUSAL)
    assert order["cancellation_reason"] is None
    saga = await shop.wait_saga(order_id, "SHIPPED", within=60)
    if requested:
        assert any(REFUSAL in h["action"] for h in saga["history"]), saga["history"]
    assert not any("ReleaseStock" in h["action"] for h in saga["history"]), saga["history"]

    async def committed() -> dict[str, Any]:
        stock = await shop.stock(book)
        assert (stock["on_hand"], stock["reserved"]) == (INITIAL_STOCK - quantity, 0), stock
        reservation = await shop.reservation(order_id)
        assert reservation["status"] == "COMMITTED", reservation
        return stock

    await shop.wait_for(committed, "the stock of the dispatched order was not committed")
    assert (await shop.shipment(order_id))["status"] == "DISPATCHED"
    audit = await asyncio.to_thread(shop.system.cli, "audit", "--json")
    report = orjson.loads(audit.stdout)
    assert (audit.returncode, report["violations"]) == (0, []), audit.stdout


async def _dispatch_then_cancel(shop: Shop, order: dict[str, Any]) -> httpx.Response:
    shipment = await shop.shipment(order["order_id"])
    dispatched = await shop.staff_move(shipment["shipment_id"], "dispatch")
    assert dispatched["status"] == "DISPATCHED"
    return await _cancel(shop, order)  # at once: ordering has not heard of the dispatch yet


@pytest.mark.timeout(300)
async def test_a_cancel_right_after_dispatch_with_the_saga_stopped_ends_shipped(shop: Shop) -> None:
    book = await shop.add_book("Left the warehouse")
    order = await shop.place_order([(book, 3)])
    await shop.wait_saga(order["order_id"], "AWAITING_DISPATCH")

    with paused(shop.system, "bookshelf_fulfillment"):
        answer = await _dispatch_then_cancel(shop, order)
        assert answer.status_code == 202, answer.text  # the order is still CONFIRMED: a request
        assert (await shop.order(order["order_id"]))["status"] == "CONFIRMED"

    await _settled_as_shipped(shop, order["order_id"], book, 3)


@pytest.mark.timeout(300)
async def test_a_cancel_right_after_dispatch_with_the_saga_running_ends_shipped(shop: Shop) -> None:
    book = await shop.add_book("Raced the saga")
    order = await shop.place_order([(book, 2)])
    await shop.wait_saga(order["order_id"], "AWAITING_DISPATCH")

    answer = await _dispatch_then_cancel(shop, order)

    # A race by design: the saga may tell ordering of the dispatch before the cancel arrives (then
    # the order is SHIPPED and the cancel is refused at once with 409), or after (then it is a
    # request the saga refuses). Either way nothing is released and the order ships.
    assert answer.status_code in (202, 409), answer.text
    await _settled_as_shipped(shop, order["order_id"], book, 2, requested=answer.status_code == 202)


@pytest.mark.timeout(300)
async def test_a_reservation_that_succeeds_after_the_saga_ended_is_released_again(shop: Shop) -> None:
    book = await shop.add_book("Late reservation")
    with paused(shop.system, "bookshelf_inventory"):
        order = await shop.place_order([(book, 4)])
        answer = await _cancel(shop, order)  # while its ReserveStock waits for inventory
        assert answer.status_code == 202, answer.text
        saga = await shop.wait_saga(order["order_id"], "CANCELLED")
        # Not necessarily the last entry: ordering's OrderCancelled (the reply) may be noted already.
        assert "cancellation requested (customer request); sent ReleaseStock, CancelOrder -> CANCELLED" in [
            h["action"] for h in saga["history"]
        ], saga["history"]

    async def compensated() -> dict[str, Any]:
        saga = await shop.saga(order["order_id"])
        entry = next(h for h in saga["history"] if h["event"] == "StockReserved")
        assert entry["action"] == "compensated: StockReserved after the end (CANCELLED); sent ReleaseStock"
        return saga

    await shop.wait_for(compensated, "the late StockReserved was not compensated", within=90)
    await shop.wait_order(order["order_id"], "CANCELLED")

    async def released() -> bool:
        stock = await shop.stock(book)
        assert (stock["on_hand"], stock["reserved"]) == (INITIAL_STOCK, 0), stock
        assert (await shop.reservation(order["order_id"]))["status"] == "RELEASED"
        return True

    await shop.wait_for(released, "the late reservation was left held")
