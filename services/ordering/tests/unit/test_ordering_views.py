"""The order JSON of docs/reference/http.md: exact keys, money as strings, UTC times with Z."""

from __future__ import annotations

from collections.abc import Callable

import orjson
from bookshelf_ordering.domain.model import Order
from bookshelf_ordering.service_layer.views import order_json

Place = Callable[..., Order]


def test_order_json_has_exactly_the_api_fields(ordering_place: Place) -> None:
    order = ordering_place(("dune", 2), ("emma", 1))
    body = order_json(order)
    assert list(body) == [
        "order_id",
        "status",
        "customer",
        "shipping_address",
        "items",
        "total",
        "tracking_number",
        "cancellation_reason",
        "history",
        "created_at",
        "updated_at",
    ]
    assert body["customer"] == {"name": "Ada Lovelace", "email": "ada@example.com"}
    assert body["shipping_address"] == {
        "street": "1 Main St",
        "city": "Springfield",
        "state": "",
        "zip_code": "12345",
        "country": "US",
    }
    assert body["items"][0] == {
        "book_id": str(order.lines[0].book_id),
        "title": "Dune",
        "quantity": 2,
        "unit_price": {"amount": "12.99", "currency": "USD"},
        "line_total": {"amount": "25.98", "currency": "USD"},
    }
    assert body["total"] == {"amount": "31.48", "currency": "USD"}
    assert body["history"] == [
        {"status": "PENDING", "at": "2024-11-26T09:00:00.000000Z", "reason": "order placed"}
    ]
    assert body["created_at"] == body["updated_at"] == "2024-11-26T09:00:00.000000Z"
    assert (body["tracking_number"], body["cancellation_reason"]) == (None, None)


def test_order_json_is_plain_json(ordering_place: Place) -> None:
    # Stored as the Idempotency-Key answer: it must survive a JSON round trip unchanged.
    body = order_json(ordering_place(("dune", 1)))
    assert orjson.loads(orjson.dumps(body)) == body
