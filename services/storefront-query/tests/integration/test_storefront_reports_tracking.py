"""BookReport and OrderTracking from scripted ordering and shipping events, in and out of order."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from bookshelf_contracts import (
    Address,
    BookPriceUpdated,
    Customer,
    OrderCancelled,
    OrderConfirmed,
    OrderDelivered,
    OrderLineData,
    OrderPlaced,
    OrderShipped,
    ShipmentCreated,
    ShipmentDelivered,
    ShipmentDispatched,
)
from bookshelf_contracts.testing import usd

from .conftest import StorefrontIT, book_added, ok

ADDRESS = Address(street="1 Main St", city="Springfield", zip_code="12345")
TRACKING = "TRK-AB12CD34EF"


def placed(order_id: UUID, lines: list[tuple[UUID, int, str]], email: str = "ann@example.com") -> OrderPlaced:
    """OrderPlaced (version 1) with ``(book_id, quantity, unit price)`` lines."""
    data = [OrderLineData(book_id=b, title="T", quantity=q, unit_price=usd(p)) for b, q, p in lines]
    total = sum((line.line_total for line in data[1:]), data[0].line_total)
    customer = Customer(name="Ann", email=email)
    return OrderPlaced(
        order_id=order_id, customer=customer, shipping_address=ADDRESS, lines=data, total=total, version=1
    )


async def report_of(it: StorefrontIT, book_id: UUID, check: Any) -> dict[str, Any]:
    """The report entry of one book once ``check(entry)`` holds (searching every page)."""

    async def entry() -> dict[str, Any] | None:
        offset = 0
        while True:
            page = (await it.http.get("/reports/books", params={"limit": 100, "offset": offset})).json()
            for item in page["entries"]:
                if item["book_id"] == str(book_id):
                    return item if check(item) else None
            if not page["has_next"]:
                return None
            offset += 100

    from bookshelf_infra.testing import eventually

    return await eventually(entry, timeout=30, message=f"report of {book_id} never matched")


async def test_units_and_revenue_count_confirmed_orders_once(storefront_it: StorefrontIT) -> None:
    book = book_added(title="Sold")
    await storefront_it.send(book)
    first, second, pending = uuid4(), uuid4(), uuid4()
    await storefront_it.send(placed(first, [(book.book_id, 2, "10.00")]))
    confirmed = await storefront_it.send(OrderConfirmed(order_id=first, version=2))
    await storefront_it.send(OrderConfirmed(order_id=first, version=2), message_id=confirmed.message_id)
    await storefront_it.send(OrderConfirmed(order_id=first, version=2))  # replayed under a new id
    await storefront_it.send(OrderConfirmed(order_id=second, version=2))  # before its OrderPlaced
    await storefront_it.send(placed(second, [(book.book_id, 1, "10.00")]))
    await storefront_it.send(placed(pending, [(book.book_id, 5, "10.00")]))  # never confirmed
    report = await report_of(storefront_it, book.book_id, lambda r: r["units_sold"] == 3)
    assert report["revenue"] == {"amount": "30.00", "currency": "USD"}
    assert report["revenue_by_currency"] == [{"amount": "30.00", "currency": "USD"}]
    assert (report["title"], report["price_changes"]) == ("Sold", 0)


async def test_cancelled_after_confirmation_subtracts_once(storefront_it: StorefrontIT) -> None:
    book = book_added(title="Returned")
    await storefront_it.send(book)
    kept, cancelled, early = uuid4(), uuid4(), uuid4()
    for order_id in (kept, cancelled, early):
        await storefront_it.send(placed(order_id, [(book.book_id, 1, "10.00")]))
    await storefront_it.send(OrderConfirmed(order_id=kept, version=2))
    await storefront_it.send(OrderConfirmed(order_id=cancelled, version=2))
    cancel = OrderCancelled(order_id=cancelled, reason="customer", previous_status="CONFIRMED", version=3)
    await storefront_it.send(cancel)
    await storefront_it.send(cancel)  # a replay subtracts nothing more
    await storefront_it.send(OrderConfirmed(order_id=cancelled, version=2))  # late replay: no re-count
    await storefront_it.send(
        OrderCancelled(order_id=early, reason="out of stock", previous_status="PENDING", version=2)
    )
    report = await report_of(storefront_it, book.book_id, lambda r: r["units_sold"] == 1)
    assert report["revenue"]["amount"] == "10.00"


async def test_price_changes_count_each_version_once(storefront_it: StorefrontIT) -> None:
    book = book_added(title="Repriced")
    change = BookPriceUpdated(book_id=book.book_id, old_price=usd("10.00"), new_price=usd("11.00"), version=2)
    later = BookPriceUpdated(book_id=book.book_id, old_price=usd("11.00"), new_price=usd("9.00"), version=3)
    await storefront_it.send(later)  # out of order
    await storefront_it.send(book)
    await storefront_it.send(change)
    await storefront_it.send(change)
    report = await report_of(storefront_it, book.book_id, lambda r: r["price_changes"] == 2)
    assert report["price"] == {"amount": "9.00", "currency": "USD"}


async def test_tracking_follows_order_and_shipment(storefront_it: StorefrontIT) -> None:
    order_id, shipment_id = uuid4(), uuid4()
    await storefront_it.send(placed(order_id, [(uuid4(), 1, "12.00")], email="bob@example.com"))
    await storefront_it.send(OrderConfirmed(order_id=order_id, version=2))
    created = ShipmentCreated(shipment_id=shipment_id, order_id=order_id, tracking_number=TRACKING, version=1)
    await storefront_it.send(created)
    await storefront_it.send(created)  # shipping answers a repeated CreateShipment the same way
    await storefront_it.send(
        ShipmentDispatched(shipment_id=shipment_id, order_id=order_id, tracking_number=TRACKING, version=2)
    )
    await storefront_it.send(OrderShipped(order_id=order_id, tracking_number=TRACKING, version=3))
    await storefront_it.send(OrderDelivered(order_id=order_id, version=4))
    await storefront_it.send(ShipmentDelivered(shipment_id=shipment_id, order_id=order_id, version=3))
    await storefront_it.send(OrderConfirmed(order_id=order_id, version=2))  # late replay
    body = (
        await storefront_it.wait_for(
            f"/tracking/{order_id}",
            ok(lambda b: b["status"] == "DELIVERED" and b["shipment_status"] == "DELIVERED"),
        )
    ).json()
    # Public by its unguessable id: no personal data.
    assert "customer_email" not in body
    assert "bob@example.com" not in str(body)
    assert body["total"] == {"amount": "12.00", "currency": "USD"}
    assert body["tracking_number"] == TRACKING
    steps = [(step["source"], step["status"]) for step in body["history"]]
    assert sorted(steps) == sorted(
        [
            ("order", "PENDING"),
            ("order", "CONFIRMED"),
            ("shipment", "CREATED"),
            ("shipment", "DISPATCHED"),
            ("order", "SHIPPED"),
            ("order", "DELIVERED"),
            ("shipment", "DELIVERED"),
        ]
    )
    assert all(step["at"].endswith("Z") for step in body["history"])


async def test_tracking_of_a_cancelled_order_keeps_the_reason(storefront_it: StorefrontIT) -> None:
    order_id = uuid4()
    cancel = OrderCancelled(order_id=order_id, reason="out of stock", previous_status="PENDING", version=2)
    await storefront_it.send(cancel)  # overtakes its OrderPlaced
    await storefront_it.send(placed(order_id, [(uuid4(), 1, "3.00")]))
    body = (
        await storefront_it.wait_for(
            f"/tracking/{order_id}", ok(lambda b: b["total"] is not None and len(b["history"]) == 2)
        )
    ).json()
    assert body["status"] == "CANCELLED"
    reasons = {step["status"]: step["reason"] for step in body["history"]}
    assert reasons == {"CANCELLED": "out of stock", "PENDING": None}


async def test_unknown_order_is_404(storefront_it: StorefrontIT) -> None:
    answer = await storefront_it.http.get(f"/tracking/{uuid4()}")
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("application/problem+json")
