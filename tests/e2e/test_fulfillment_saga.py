"""The order-fulfillment saga (docs/domain.md) through every service: HTTP in, Kafka between, HTTP out."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.e2e.system import RunningSystem, Shop

INITIAL_STOCK = 10  # inventory's INITIAL_STOCK default


@pytest.fixture
async def shop(running_system: RunningSystem) -> AsyncIterator[Shop]:
    async with httpx.AsyncClient(timeout=10.0) as client:
        yield Shop(running_system, client)


async def _stock_is(shop: Shop, book_id: str, on_hand: int, reserved: int) -> None:
    async def levels() -> dict[str, object]:
        stock = await shop.stock(book_id)
        assert (stock["on_hand"], stock["reserved"]) == (on_hand, reserved), stock
        return stock

    await shop.wait_for(levels, f"stock of {book_id} never became on_hand={on_hand}, reserved={reserved}")


async def test_happy_path_reaches_delivered_with_stock_committed_once(shop: Shop) -> None:
    book = await shop.add_book("Dune")
    correlation_id = f"e2e-saga-{uuid.uuid4()}"
    order = await shop.place_order([(book, 2)], headers={"X-Correlation-ID": correlation_id})
    order_id = order["order_id"]

    saga = await shop.wait_saga(order_id, "AWAITING_DISPATCH")
    assert (await shop.order(order_id))["status"] == "CONFIRMED"
    await _stock_is(shop, book, on_hand=INITIAL_STOCK, reserved=2)
    shipment = await shop.shipment(order_id)
    assert shipment["status"] == "CREATED"
    assert saga["tracking_number"] == shipment["tracking_number"]
    assert saga["correlation_id"] == correlation_id

    await shop.staff_move(shipment["shipment_id"], "dispatch")
    shipped = await shop.wait_order(order_id, "SHIPPED")
    assert shipped["tracking_number"] == shipment["tracking_number"]
    await _stock_is(shop, book, on_hand=INITIAL_STOCK - 2, reserved=0)

    await shop.staff_move(shipment["shipment_id"], "deliver")
    await shop.wait_order(order_id, "DELIVERED")
    saga = await shop.wait_saga(order_id, "DELIVERED")
    transitions = [h["event"] for h in saga["history"] if "->" in h["action"]]
    assert transitions == [
        "OrderPlaced",
        "StockReserved",
        "ShipmentCreated",
        "ShipmentDispatched",
        "ShipmentDelivered",
    ]
    assert saga["deadline"] is None
    assert (await shop.reservation(order_id))["status"] == "COMMITTED"


async def test_out_of_stock_cancels_the_order_with_the_short_line(shop: Shop) -> None:
    book = await shop.add_book("Emma")

    order = await shop.place_order([(book, INITIAL_STOCK + 1)])

    cancelled = await shop.wait_order(order["order_id"], "CANCELLED")
    reason = cancelled["cancellation_reason"]
    assert reason.startswith("out of stock"), reason
    assert f"book {book} requested {INITIAL_STOCK + 1}, available {INITIAL_STOCK}" in reason
    saga = await shop.wait_saga(order["order_id"], "CANCELLED")
    assert saga["cancel_reason"] == "out of stock"
    await _stock_is(shop, book, on_hand=INITIAL_STOCK, reserved=0)


async def test_a_multi_line_order_is_reserved_all_or_nothing(shop: Shop) -> None:
    plenty, scarce = await shop.add_book("Plenty"), await shop.add_book("Scarce")

    order = await shop.place_order([(plenty, 3), (scarce, INITIAL_STOCK + 1)])

    cancelled = await shop.wait_order(order["order_id"], "CANCELLED")
    assert f"book {scarce} requested" in cancelled["cancellation_reason"]
    assert f"book {plenty}" not in cancelled["cancellation_reason"]
    await _stock_is(shop, plenty, on_hand=INITIAL_STOCK, reserved=0)
    await _stock_is(shop, scarce, on_hand=INITIAL_STOCK, reserved=0)

    fits = await shop.place_order([(plenty, 3), (scarce, 4)])
    await shop.wait_saga(fits["order_id"], "AWAITING_DISPATCH")
    await _stock_is(shop, plenty, on_hand=INITIAL_STOCK, reserved=3)
    await _stock_is(shop, scarce, on_hand=INITIAL_STOCK, reserved=4)


async def test_an_undeliverable_country_compensates_and_restores_stock(shop: Shop) -> None:
    book = await shop.add_book("Antarctica")

    order = await shop.place_order([(book, 4)], country="AQ")

    cancelled = await shop.wait_order(order["order_id"], "CANCELLED")
    assert cancelled["cancellation_reason"].startswith("shipment failed: country AQ is not served")
    saga = await shop.wait_saga(order["order_id"], "CANCELLED")
    transitions = [h["event"] for h in saga["history"] if "->" in h["action"]]
    assert transitions == ["OrderPlaced", "StockReserved", "ShipmentFailed"]
    await _stock_is(shop, book, on_hand=INITIAL_STOCK, reserved=0)
    reservation = await shop.wait_for(
        lambda: _reservation_released(shop, order["order_id"]), "the reservation was never released"
    )
    assert reservation["status"] == "RELEASED"


async def _reservation_released(shop: Shop, order_id: str) -> dict[str, object]:
    reservation = await shop.reservation(order_id)
    assert reservation["status"] == "RELEASED", reservation
    return reservation


async def _shipment_cancelled(shop: Shop, order_id: str) -> dict[str, object]:
    shipment = await shop.shipment(order_id)
    assert shipment["status"] == "CANCELLED", shipment
    return shipment


async def test_a_customer_cancel_before_dispatch_cancels_the_shipment_then_releases_the_stock(
    shop: Shop,
) -> None:
    book = await shop.add_book("Cancelled")
    order = await shop.place_order([(book, 5)])
    order_id = order["order_id"]
    await shop.wait_saga(order_id, "AWAITING_DISPATCH")
    assert (await shop.order(order_id))["status"] == "CONFIRMED"

    own = {"Authorization": f"Bearer {order['access_token']}"}  # the customer's own token
    answer = await shop.client.post(f"{shop.system.url('ordering')}/orders/{order_id}/cancel", headers=own)

    assert answer.status_code == 202, answer.text  # a request: the saga decides
    assert answer.json()["status"] == "CONFIRMED"
    assert answer.json()["history"][-1]["reason"] == "cancellation requested (customer request)"
    cancelled = await shop.wait_order(order_id, "CANCELLED")
    assert cancelled["cancellation_reason"] == "customer request"
    saga = await shop.wait_saga(order_id, "CANCELLED")
    moves = [(h["event"], h["action"]) for h in saga["history"] if "->" in h["action"]][-2:]
    assert moves == [
        (
            "OrderCancellationRequested",
            "cancellation requested (customer request); sent CancelShipment -> CANCELLING",
        ),
        # stock is released only once shipping confirmed the cancellation
        ("ShipmentCancelled", "shipment cancelled; sent ReleaseStock, CancelOrder -> CANCELLED"),
    ]
    await _stock_is(shop, book, on_hand=INITIAL_STOCK, reserved=0)
    await shop.wait_for(lambda: _reservation_released(shop, order_id), "the reservation was never released")
    await shop.wait_for(lambda: _shipment_cancelled(shop, order_id), "the shipment was left CREATED")


async def test_a_shipped_order_cannot_be_cancelled(shop: Shop) -> None:
    book = await shop.add_book("Shipped")
    order = await shop.place_order([(book, 1)])
    order_id = order["order_id"]
    await shop.wait_saga(order_id, "AWAITING_DISPATCH")
    await shop.staff_move((await shop.shipment(order_id))["shipment_id"], "dispatch")
    await shop.wait_order(order_id, "SHIPPED")

    own = {"Authorization": f"Bearer {order['access_token']}"}  # the customer's own token
    answer = await shop.client.post(f"{shop.system.url('ordering')}/orders/{order_id}/cancel", headers=own)

    assert answer.status_code == 409, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert (await shop.order(order_id))["status"] == "SHIPPED"
    assert (await shop.saga(order_id))["state"] == "SHIPPED"
    await _stock_is(shop, book, on_hand=INITIAL_STOCK - 1, reserved=0)

    await shop.staff_move((await shop.shipment(order_id))["shipment_id"], "deliver")
    await shop.wait_order(order_id, "DELIVERED")
    answer = await shop.client.post(f"{shop.system.url('ordering')}/orders/{order_id}/cancel", headers=own)
    assert answer.status_code == 409, answer.text
    assert "DELIVERED" in answer.json()["detail"]
