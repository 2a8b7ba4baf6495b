"""A saga whose deadline passes compensates: a system with a 3 s deadline and no shipping service, so
CreateShipment is never answered and the saga times out in AWAITING_SHIPMENT."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests.e2e.system import RunningSystem, Shop, start_system, system_home

INITIAL_STOCK = 10


@pytest.fixture(scope="module")
def no_shipping_system() -> Iterator[RunningSystem]:
    with system_home("bookshelf-deadline") as home:
        system = start_system(
            home,
            services=["catalog", "ordering", "inventory", "fulfillment"],
            env={"FULFILLMENT_TIMEOUT_S": "3"},
            # a second system starts while the session's runs: give it more than the default
            ready_timeout=float(os.environ.get("BOOKSHELF_E2E_READY_TIMEOUT", "200")),
        )
        yield system
        system.stop()


@pytest.fixture
async def shop(no_shipping_system: RunningSystem) -> AsyncIterator[Shop]:
    async with httpx.AsyncClient(timeout=10.0) as client:
        yield Shop(no_shipping_system, client)


@pytest.mark.timeout(600)  # includes starting a second system
async def test_an_expired_deadline_releases_stock_and_cancels_the_order(shop: Shop) -> None:
    book = await shop.add_book("Slow Boat")
    order_id = (await shop.place_order([(book, 4)]))["order_id"]

    waiting = await shop.wait_saga(order_id, "AWAITING_SHIPMENT")
    assert waiting["deadline"] is not None

    cancelled = await shop.wait_order(order_id, "CANCELLED", within=30)
    assert cancelled["cancellation_reason"] == "timed out"
    saga = await shop.wait_saga(order_id, "CANCELLED")
    expired = next(h for h in saga["history"] if h["event"] == "DeadlinePassed")
    assert expired["action"] == (
        "deadline passed in AWAITING_SHIPMENT; sent ReleaseStock, CancelShipment, CancelOrder -> CANCELLED"
    )
    assert saga["deadline"] is None

    async def released() -> bool:
        stock = await shop.stock(book)
        assert (stock["on_hand"], stock["reserved"]) == (INITIAL_STOCK, 0), stock
        assert (await shop.reservation(order_id))["status"] == "RELEASED"
        return True

    await shop.wait_for(released, "the timed-out order's stock was never released")
