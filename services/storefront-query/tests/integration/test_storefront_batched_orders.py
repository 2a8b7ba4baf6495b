"""Order projections (BookReport sales, OrderTracking) as batch handlers: a run of ordering and
shipping events locks each order once, applies the events in memory in order and writes back once.

The events of each test are produced together into one partition, so the live consumer receives
them in one fetch and hands them to its BatchHandler in one call.
"""

from __future__ import annotations

from uuid import uuid4

from bookshelf_contracts import (
    ORDERING_ORDERS,
    OrderCancelled,
    OrderConfirmed,
    OrderDelivered,
    OrderShipped,
    ShipmentCreated,
    ShipmentDispatched,
)

from .batching import send_together
from .conftest import StorefrontIT, Twin, book_added, header, ok
from .test_storefront_reports_tracking import TRACKING, placed, report_of


async def test_several_events_for_one_order_in_a_batch_end_in_the_last_state(
    storefront_it: StorefrontIT,
) -> None:
    book = book_added(title="Batch sold")
    await storefront_it.send(book)
    order_id, other = uuid4(), uuid4()
    await send_together(
        storefront_it,
        [
            placed(order_id, [(book.book_id, 2, "10.00")], email="batch@example.com"),
            placed(other, [(book.book_id, 1, "10.00")]),  # another order in the same batch
            OrderConfirmed(order_id=order_id, version=2),
            OrderShipped(order_id=order_id, tracking_number=TRACKING, version=3),
            OrderConfirmed(order_id=other, version=2),
            OrderDelivered(order_id=order_id, version=4),
        ],
    )
    shipment = uuid4()
    await send_together(
        storefront_it,
        [
            ShipmentCreated(shipment_id=shipment, order_id=order_id, tracking_number=TRACKING, version=1),
            ShipmentDispatched(shipment_id=shipment, order_id=order_id, tracking_number=TRACKING, version=2),
        ],
    )
    body = (
        await storefront_it.wait_for(
            f"/tracking/{order_id}",
            ok(lambda b: b["status"] == "DELIVERED" and b["shipment_status"] == "DISPATCHED"),
        )
    ).json()
    assert body["tracking_number"] == TRACKING
    assert "customer_email" not in body
    assert "batch@example.com" not in str(body)
    assert [s["status"] for s in body["history"] if s["source"] == "order"] == [
        "PENDING",
        "CONFIRMED",
        "SHIPPED",
        "DELIVERED",
    ]
    report = await report_of(storefront_it, book.book_id, lambda r: r["units_sold"] == 3)
    assert report["revenue"] == {"amount": "30.00", "currency": "USD"}


async def test_stale_and_duplicate_order_events_inside_a_batch_change_nothing(
    storefront_it: StorefrontIT,
) -> None:
    book = book_added(title="Batch returned")
    await storefront_it.send(book)
    order_id, marker = uuid4(), uuid4()
    first, confirm = uuid4(), uuid4()
    cancel = OrderCancelled(order_id=order_id, reason="customer", previous_status="CONFIRMED", version=3)
    await send_together(
        storefront_it,
        [
            placed(order_id, [(book.book_id, 4, "5.00")]),
            OrderConfirmed(order_id=order_id, version=2),
            OrderConfirmed(order_id=order_id, version=2),  # republished under a new message id
            cancel,
            OrderConfirmed(order_id=order_id, version=2),  # late replay: no re-count, no regress
            placed(order_id, [(book.book_id, 4, "5.00")]),  # redelivery (same message id as the first)
            cancel,  # a replayed cancel subtracts nothing more
            placed(marker, [(book.book_id, 1, "5.00")]),
            OrderConfirmed(order_id=marker, version=2),
        ],
        ids={0: first, 1: confirm, 5: first},
    )
    # The marker order counts once every event before it in the partition was handled.
    report = await report_of(storefront_it, book.book_id, lambda r: r["units_sold"] == 1)
    assert report["revenue"]["amount"] == "5.00"
    body = (await storefront_it.http.get(f"/tracking/{order_id}")).json()
    assert body["status"] == "CANCELLED"
    assert [s["status"] for s in body["history"]] == ["PENDING", "CONFIRMED", "CANCELLED"]


async def test_a_poison_order_event_in_a_batch_is_dead_lettered_alone(
    storefront_it: StorefrontIT, twin: Twin
) -> None:
    topic, dead_letters = await twin(ORDERING_ORDERS, ("reports", "tracking"))
    before, poison, after = uuid4(), uuid4(), uuid4()
    # A valid contract PostgreSQL refuses (NUL in text): the batch fails, then this message alone.
    bad = placed(poison, [(uuid4(), 1, "1.00")], email="eve\x00@example.com")
    await send_together(
        storefront_it,
        [placed(before, [(uuid4(), 1, "1.00")]), bad, placed(after, [(uuid4(), 1, "1.00")])],
        topic=topic,
    )
    for order_id in (before, after):
        await storefront_it.wait_for(f"/tracking/{order_id}", ok(lambda b: b["status"] == "PENDING"))
    letter = await dead_letters.first(lambda r: header(r, "dlq.original_key") == str(poison))
    # The batch failed, then the message ran alone once: a data error (NUL, SQLSTATE class 22) is
    # dead-lettered at once instead of being retried.
    assert int(header(letter, "dlq.attempts")) == 1
    assert "0x00" in header(letter, "dlq.error_message")
    assert (await storefront_it.http.get(f"/tracking/{poison}")).status_code == 404
    assert len(dead_letters.records) == 1  # only the poison: the others of its batch were applied
