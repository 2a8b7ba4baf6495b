"""``ordering.commands`` -> handlers -> ``ordering.orders``; duplicates, rejections, dead letters."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import sqlalchemy as sa
from bookshelf_contracts import (
    ORDERING_COMMANDS,
    CancelOrder,
    ConfirmOrder,
    MarkOrderDelivered,
    MarkOrderShipped,
    ShortLine,
)
from bookshelf_infra.testing import eventually

from .conftest import OrderingHarness

TRK = "TRK-ABCDE12345"


async def place(ordering: OrderingHarness) -> str:
    book = await ordering.seed_book()
    body = {
        "customer": {"name": "Ada", "email": "ada@example.com"},
        "shipping_address": {"street": "1 Main St", "city": "Springfield", "zip_code": "12345"},
        "items": [{"book_id": str(book), "quantity": 1}],
    }
    response = await ordering.http.post("/orders", json=body)
    assert response.status_code == 201, response.text
    order_id: str = response.json()["order_id"]
    return order_id


async def command(ordering: OrderingHarness, message: Any, correlation_id: str | None = None) -> Any:
    return await ordering.send(
        ORDERING_COMMANDS, message, key=str(message.order_id), correlation_id=correlation_id
    )


async def handled(ordering: OrderingHarness, message_id: Any) -> bool:
    """True once the runner committed the message (its inbox row exists): acknowledged, not dead."""
    async with ordering.session() as session:
        found = await session.scalar(
            sa.text("SELECT count(*) FROM inbox WHERE message_id = :id"), {"id": message_id}
        )
    return bool(found)


async def test_confirm_order_publishes_order_confirmed(ordering: OrderingHarness) -> None:
    order_id = await place(ordering)
    sent = await command(ordering, ConfirmOrder(order_id=uuid.UUID(order_id)), correlation_id="saga-corr-1")
    (record,) = await eventually(lambda: ordering.events(order_id, "OrderConfirmed"), timeout=20)
    assert record.value["data"] == {"order_id": order_id, "version": 2}
    assert record.value["correlation_id"] == "saga-corr-1"
    assert record.value["causation_id"] == str(sent.message_id)
    order = await ordering.order(order_id)
    assert order["status"] == "CONFIRMED"
    assert [h["status"] for h in order["history"]] == ["PENDING", "CONFIRMED"]


async def test_the_saga_walks_an_order_to_delivered(ordering: OrderingHarness) -> None:
    order_id = await place(ordering)
    oid = uuid.UUID(order_id)
    await command(ordering, ConfirmOrder(order_id=oid))
    await command(ordering, MarkOrderShipped(order_id=oid, tracking_number=TRK))
    await command(ordering, MarkOrderDelivered(order_id=oid))
    await eventually(lambda: ordering.events(order_id, "OrderDelivered"), timeout=20)
    types = [r.value["type"] for r in ordering.events(order_id)]
    assert types == ["OrderPlaced", "OrderConfirmed", "OrderShipped", "OrderDelivered"]
    assert [r.value["data"]["version"] for r in ordering.events(order_id)] == [1, 2, 3, 4]
    order = await ordering.order(order_id)
    assert (order["status"], order["tracking_number"]) == ("DELIVERED", TRK)
    cancel = await ordering.http.post(f"/orders/{order_id}/cancel")
    assert cancel.status_code == 409
    assert cancel.headers["content-type"] == "application/problem+json"
    assert "DELIVERED" in cancel.json()["detail"]


async def test_customer_cancel_of_a_shipped_order_is_409(ordering: OrderingHarness) -> None:
    order_id = await place(ordering)
    oid = uuid.UUID(order_id)
    await command(ordering, ConfirmOrder(order_id=oid))
    await command(ordering, MarkOrderShipped(order_id=oid, tracking_number=TRK))
    await eventually(lambda: ordering.events(order_id, "OrderShipped"), timeout=20)
    response = await ordering.http.post(f"/orders/{order_id}/cancel")
    assert response.status_code == 409
    assert (await ordering.order(order_id))["status"] == "SHIPPED"


async def test_a_duplicate_command_delivery_has_no_second_effect(ordering: OrderingHarness) -> None:
    order_id = await place(ordering)
    oid = uuid.UUID(order_id)
    sent = await command(ordering, ConfirmOrder(order_id=oid))
    # The very same record again (a redelivery), then the same command as a new message (a saga retry).
    await ordering.send_raw(ORDERING_COMMANDS, sent.to_json(), key=order_id, headers=sent.kafka_headers())
    await command(ordering, ConfirmOrder(order_id=oid))
    # Same key, same partition: once this marker's event is out, the duplicates were handled before it.
    await command(ordering, MarkOrderShipped(order_id=oid, tracking_number=TRK))
    await eventually(lambda: ordering.events(order_id, "OrderShipped"), timeout=20)
    assert len(ordering.events(order_id, "OrderConfirmed")) == 1
    assert [h["status"] for h in (await ordering.order(order_id))["history"]] == [
        "PENDING",
        "CONFIRMED",
        "SHIPPED",
    ]


async def test_saga_cancel_records_the_reason_with_short_lines(ordering: OrderingHarness) -> None:
    order_id = await place(ordering)
    book = uuid.uuid4()
    short = [ShortLine(book_id=book, requested=1, available=0)]
    await command(
        ordering, CancelOrder(order_id=uuid.UUID(order_id), reason="out of stock", short_lines=short)
    )
    (record,) = await eventually(lambda: ordering.events(order_id, "OrderCancelled"), timeout=20)
    expected = f"out of stock: book {book} requested 1, available 0"
    assert record.value["data"]["reason"] == expected
    assert (await ordering.order(order_id))["cancellation_reason"] == expected


async def test_a_forbidden_command_is_acknowledged_not_dead_lettered(ordering: OrderingHarness) -> None:
    order_id = await place(ordering)
    await command(ordering, CancelOrder(order_id=uuid.UUID(order_id), reason="customer request"))
    await eventually(lambda: ordering.events(order_id, "OrderCancelled"), timeout=20)
    sent = await command(ordering, MarkOrderShipped(order_id=uuid.UUID(order_id), tracking_number=TRK))
    await eventually(lambda: handled(ordering, sent.message_id), timeout=20)
    assert ordering.dead_letters(sent.message_id) == []
    assert ordering.events(order_id, "OrderShipped") == []
    assert (await ordering.order(order_id))["status"] == "CANCELLED"
    metrics = (await ordering.http.get("/metrics")).text
    assert (
        'bookshelf_ordering_commands_rejected_total{command="MarkOrderShipped",status="CANCELLED"}' in metrics
    )


async def test_a_requested_cancel_that_the_saga_refuses_ends_shipped_with_the_refusal(
    ordering: OrderingHarness,
) -> None:
    order_id = await place(ordering)
    oid = uuid.UUID(order_id)
    await command(ordering, ConfirmOrder(order_id=oid))
    await eventually(lambda: ordering.events(order_id, "OrderConfirmed"), timeout=20)
    requested = await ordering.http.post(f"/orders/{order_id}/cancel")
    assert requested.status_code == 202, requested.text
    assert requested.json()["status"] == "CONFIRMED"
    await command(ordering, MarkOrderShipped(order_id=oid, tracking_number=TRK))  # the shipment had left
    await eventually(lambda: ordering.events(order_id, "OrderShipped"), timeout=20)
    order = await ordering.order(order_id)
    assert (order["status"], order["cancellation_reason"]) == ("SHIPPED", None)
    assert [(h["status"], h["reason"]) for h in order["history"]][-2:] == [
        ("SHIPPED", f"shipped with tracking number {TRK}"),
        ("SHIPPED", "cancellation refused: already dispatched"),
    ]
    types = [r.value["type"] for r in ordering.events(order_id)]
    assert types == ["OrderPlaced", "OrderConfirmed", "OrderCancellationRequested", "OrderShipped"]


async def test_an_invalid_command_lands_in_the_dlq_with_the_reason(ordering: OrderingHarness) -> None:
    message_id = str(uuid.uuid4())
    envelope = {
        "message_id": message_id,
        "type": "ConfirmOrder",
        "version": 1,
        "occurred_at": "2024-11-26T09:00:00Z",
        "correlation_id": "bad-command",
        "causation_id": None,
        "producer": "test",
        "data": {"order_id": "not-a-uuid"},
    }
    headers = [("message_id", message_id.encode()), ("type", b"ConfirmOrder")]
    await ordering.send_raw(ORDERING_COMMANDS, orjson.dumps(envelope), key="bad", headers=headers)
    (letter,) = await eventually(lambda: ordering.dead_letters(message_id), timeout=20)
    assert "order_id" in letter.headers["dlq.error_message"]
    assert letter.headers["dlq.error_type"].endswith("MessageValidationError")
    assert letter.headers["dlq.original_topic"] == ORDERING_COMMANDS
    assert letter.value["message_id"] == message_id  # the original value is kept


async def test_a_command_for_an_unknown_order_is_dead_lettered(ordering: OrderingHarness) -> None:
    missing = uuid.uuid4()
    sent = await command(ordering, ConfirmOrder(order_id=missing))
    (letter,) = await eventually(lambda: ordering.dead_letters(sent.message_id), timeout=20)
    assert f"no order with id {missing}" in letter.headers["dlq.error_message"]
    assert letter.headers["dlq.error_type"].endswith("PermanentError")
