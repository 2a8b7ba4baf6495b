"""HTTP API -> database -> outbox -> ``ordering.orders``, against real PostgreSQL and the broker."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import sqlalchemy as sa
from bookshelf_contracts import ORDERING_COMMANDS, CancelOrder
from bookshelf_infra.testing import eventually, unique_name

from .conftest import OrderingHarness

EMAIL = "ada@example.com"


def order_body(*lines: tuple[uuid.UUID, int], email: str = EMAIL) -> dict[str, Any]:
    return {
        "customer": {"name": "Ada Lovelace", "email": email},
        "shipping_address": {"street": "1 Main St", "city": "Springfield", "zip_code": "12345"},
        "items": [{"book_id": str(book), "quantity": quantity} for book, quantity in lines],
    }


async def test_post_order_publishes_order_placed_with_the_correlation_id(ordering: OrderingHarness) -> None:
    dune = await ordering.seed_book("Dune", "12.99")
    emma = await ordering.seed_book("Emma", "5.50")
    correlation_id = unique_name("corr")
    response = await ordering.http.post(
        "/orders",
        json=order_body((dune, 2), (emma, 1), (dune, 1)),
        headers={"X-Correlation-ID": correlation_id},
    )
    assert response.status_code == 201, response.text
    assert response.headers["X-Correlation-ID"] == correlation_id
    order = response.json()
    assert response.headers["Location"] == f"/orders/{order['order_id']}"
    assert order["status"] == "PENDING"
    assert [(i["title"], i["quantity"], i["line_total"]["amount"]) for i in order["items"]] == [
        ("Dune", 3, "38.97"),
        ("Emma", 1, "5.50"),
    ]
    assert order["total"] == {"amount": "44.47", "currency": "USD"}
    token = order.pop("access_token")
    assert await ordering.order(order["order_id"]) == order

    (record,) = await eventually(lambda: ordering.events(order["order_id"], "OrderPlaced"), timeout=20)
    assert record.value["correlation_id"] == correlation_id
    assert token not in str(record.value)  # the token travels nowhere but in the answer
    assert record.headers["correlation_id"] == correlation_id
    assert record.value["producer"] == "ordering"
    data = record.value["data"]
    assert data["version"] == 1
    assert data["total"] == {"amount": "44.47", "currency": "USD"}
    assert [(line["title"], line["quantity"], line["unit_price"]["amount"]) for line in data["lines"]] == [
        ("Dune", 3, "12.99"),
        ("Emma", 1, "5.50"),
    ]
    assert data["customer"] == {"name": "Ada Lovelace", "email": EMAIL}
    assert data["shipping_address"]["street"] == "1 Main St"


async def test_unknown_book_is_422_naming_the_line(ordering: OrderingHarness) -> None:
    dune = await ordering.seed_book()
    unknown = uuid.uuid4()
    response = await ordering.http.post("/orders", json=order_body((dune, 1), (unknown, 1)))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    (error,) = response.json()["errors"]
    assert error["field"] == "items[1].book_id"
    assert str(unknown) in error["message"]


async def test_mixed_currencies_are_422_naming_the_line(ordering: OrderingHarness) -> None:
    dune = await ordering.seed_book("Dune", "12.99", "USD")
    faust = await ordering.seed_book("Faust", "9.00", "EUR")
    response = await ordering.http.post("/orders", json=order_body((dune, 1), (faust, 1)))
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["field"] == "items[1].book_id"
    assert "EUR" in error["message"]


async def test_idempotency_key_replays_the_first_answer_and_refuses_another_body(
    ordering: OrderingHarness,
) -> None:
    dune = await ordering.seed_book()
    email = f"{unique_name('idem')}@example.com"
    key = {"Idempotency-Key": unique_name("key")}
    first = await ordering.http.post("/orders", json=order_body((dune, 1), email=email), headers=key)
    again = await ordering.http.post("/orders", json=order_body((dune, 1), email=email), headers=key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    other = await ordering.http.post("/orders", json=order_body((dune, 2), email=email), headers=key)
    assert other.status_code == 409
    assert other.headers["content-type"] == "application/problem+json"
    listed = (await ordering.http.get("/orders", params={"customer_email": email})).json()
    assert listed["total"] == 1
    order_id = first.json()["order_id"]
    await eventually(lambda: ordering.events(order_id, "OrderPlaced"), timeout=20)
    assert len(ordering.events(order_id, "OrderPlaced")) == 1
    # The key and its answer live in ordering's own database (they survive a restart or another replica).
    async with ordering.session() as session:
        stored = (
            await session.execute(
                sa.text(
                    "SELECT method, path, status_code, response_body FROM idempotency_keys WHERE key = :k"
                ),
                {"k": key["Idempotency-Key"]},
            )
        ).one()
    assert (stored.method, stored.path, stored.status_code) == ("POST", "/orders", 201)
    assert stored.response_body["order_id"] == order_id
    # Only the hash of the token is stored: not in the stored answer, not in the order row.
    token = first.json()["access_token"]
    assert "access_token" not in stored.response_body
    async with ordering.session() as session:
        row = (
            await session.execute(
                sa.text(
                    "SELECT to_jsonb(o)::text AS everything, access_token_hash FROM orders o WHERE order_id = :o"
                ),
                {"o": uuid.UUID(order_id)},
            )
        ).one()
    assert token not in row.everything
    assert row.access_token_hash == hashlib.sha256(token.encode()).hexdigest()


async def test_list_orders_filters_and_paginates(ordering: OrderingHarness) -> None:
    dune = await ordering.seed_book()
    email = f"{unique_name('list')}@example.com"
    ids = []
    for _ in range(3):
        response = await ordering.http.post("/orders", json=order_body((dune, 1), email=email))
        ids.append(response.json()["order_id"])
    saga_cancel = CancelOrder(order_id=uuid.UUID(ids[0]), reason="customer request")
    await ordering.send(ORDERING_COMMANDS, saga_cancel, key=ids[0])
    await eventually(lambda: ordering.events(ids[0], "OrderCancelled"), timeout=20)

    page = (await ordering.http.get("/orders", params={"customer_email": email.upper(), "limit": 2})).json()
    assert (page["total"], page["limit"], page["offset"], page["page"], page["total_pages"]) == (
        3,
        2,
        0,
        1,
        2,
    )
    assert (page["has_next"], page["has_prev"]) == (True, False)
    assert [entry["order_id"] for entry in page["entries"]] == [ids[2], ids[1]]  # newest first
    rest = (await ordering.http.get("/orders", params={"customer_email": email, "offset": 2})).json()
    assert [entry["order_id"] for entry in rest["entries"]] == [ids[0]]
    assert (rest["has_next"], rest["has_prev"]) == (False, True)
    cancelled = (
        await ordering.http.get("/orders", params={"customer_email": email, "status": "CANCELLED"})
    ).json()
    assert [entry["order_id"] for entry in cancelled["entries"]] == [ids[0]]


async def test_customer_cancel_is_202_a_request_once_and_publishes_one_event(
    ordering: OrderingHarness,
) -> None:
    dune = await ordering.seed_book()
    order_id = (await ordering.http.post("/orders", json=order_body((dune, 1)))).json()["order_id"]
    first = await ordering.http.post(f"/orders/{order_id}/cancel")
    again = await ordering.http.post(f"/orders/{order_id}/cancel")
    assert (first.status_code, again.status_code) == (202, 202)
    assert first.json()["status"] == "PENDING"  # the saga decides
    assert first.json()["cancellation_reason"] is None
    assert again.json() == first.json()
    assert [(h["status"], h["reason"]) for h in first.json()["history"]] == [
        ("PENDING", "order placed"),
        ("PENDING", "cancellation requested (customer request)"),
    ]
    (record,) = await eventually(lambda: ordering.events(order_id, "OrderCancellationRequested"), timeout=20)
    assert record.value["data"]["reason"] == "customer request"
    assert record.value["data"]["version"] == 2
    assert ordering.events(order_id, "OrderCancelled") == []


async def test_unknown_order_is_404(ordering: OrderingHarness) -> None:
    missing = uuid.uuid4()
    for response in (
        await ordering.http.get(f"/orders/{missing}"),
        await ordering.http.post(f"/orders/{missing}/cancel"),
    ):
        assert response.status_code == 404
        assert str(missing) in response.json()["detail"]


async def test_a_customer_reads_and_cancels_their_order_with_its_token_only(
    ordering: OrderingHarness,
) -> None:
    dune = await ordering.seed_book()
    mine = await ordering.anonymous.post("/orders", json=order_body((dune, 1)))
    theirs = await ordering.anonymous.post("/orders", json=order_body((dune, 1)))
    assert (mine.status_code, theirs.status_code) == (201, 201)
    order_id, token = mine.json()["order_id"], mine.json()["access_token"]
    assert len(token) >= 22  # >= 128 bits in base64url
    assert token != theirs.json()["access_token"]
    own = {"Authorization": f"Bearer {token}"}
    other = {"Authorization": f"Bearer {theirs.json()['access_token']}"}

    read = await ordering.anonymous.get(f"/orders/{order_id}", headers=own)
    assert read.status_code == 200
    assert "access_token" not in read.json()
    for headers in ({}, other, {"Authorization": "Bearer " + token[:-1] + "x"}, {"Authorization": token}):
        for method, path in (("GET", f"/orders/{order_id}"), ("POST", f"/orders/{order_id}/cancel")):
            refused = await ordering.anonymous.request(method, path, headers=headers)
            assert refused.status_code == 401, (method, headers)
            assert refused.headers["content-type"] == "application/problem+json"
            assert "Ada" not in refused.text
    # An unknown order answers the same 401 as a known one: no hint whether it exists.
    unknown = await ordering.anonymous.get(f"/orders/{uuid.uuid4()}", headers=own)
    known = await ordering.anonymous.get(f"/orders/{order_id}", headers=other)
    assert (unknown.status_code, unknown.json()["detail"]) == (known.status_code, known.json()["detail"])
    # The list is STAFF: a customer token does not open it.
    assert (await ordering.anonymous.get("/orders")).status_code == 401
    assert (await ordering.anonymous.get("/orders", headers=own)).status_code == 401

    cancelled = await ordering.anonymous.post(f"/orders/{order_id}/cancel", headers=own)
    assert cancelled.status_code == 202
    assert cancelled.json()["history"][-1]["reason"] == "cancellation requested (customer request)"
    other_order = await ordering.order(theirs.json()["order_id"])
    assert [h["reason"] for h in other_order["history"]] == ["order placed"]


async def test_a_shipped_order_cannot_be_cancelled_409(ordering: OrderingHarness) -> None:
    dune = await ordering.seed_book()
    placed = (await ordering.anonymous.post("/orders", json=order_body((dune, 1)))).json()
    order_id = uuid.UUID(placed["order_id"])
    async with ordering.session() as session, session.begin():
        await session.execute(
            sa.text("UPDATE orders SET status = 'SHIPPED' WHERE order_id = :o"), {"o": order_id}
        )
    own = {"Authorization": f"Bearer {placed['access_token']}"}
    refused = await ordering.anonymous.post(f"/orders/{order_id}/cancel", headers=own)
    assert refused.status_code == 409
    assert (await ordering.order(order_id))["status"] == "SHIPPED"
