"""The staff HTTP API over real PostgreSQL: dispatch/deliver -> outbox -> shipping.shipments, 401/404/409."""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from bookshelf_contracts import Address, CreateShipment, StockLine

from .conftest import STAFF, ShippingIT, envelope_of, event

ADDRESS = Address(street="2 High St", city="Dublin", zip_code="D02", country="IE")


async def new_shipment(it: ShippingIT) -> tuple[UUID, str]:
    """Create a shipment through shipping.commands; returns (order_id, shipment_id)."""
    order_id = uuid.uuid4()
    lines = [StockLine(book_id=uuid.uuid4(), quantity=1)]
    await it.send(CreateShipment(order_id=order_id, address=ADDRESS, lines=lines))
    (created,) = await it.shipments.wait_for(event("ShipmentCreated", order_id=order_id))
    return order_id, str(envelope_of(created)["data"]["shipment_id"])


async def test_get_shipment_shows_every_field(shipping_it: ShippingIT) -> None:
    order_id, shipment_id = await new_shipment(shipping_it)
    answer = await shipping_it.http.get(f"/shipments/{shipment_id}", headers=STAFF)
    assert answer.status_code == 200
    body: dict[str, Any] = answer.json()
    assert {"shipment_id", "order_id", "status", "tracking_number", "address", "lines", "history"} <= set(
        body
    )
    assert body["order_id"] == str(order_id)
    assert body["address"] == ADDRESS.model_dump(mode="json")
    assert body["lines"][0]["quantity"] == 1
    assert body["history"][0]["status"] == "CREATED"
    assert body["history"][0]["at"].endswith("Z")


async def test_the_api_docs_list_every_route(shipping_it: ShippingIT) -> None:
    assert (await shipping_it.http.get("/docs")).status_code == 200
    paths = (await shipping_it.http.get("/openapi.json")).json()["paths"]
    assert {
        "/shipments",
        "/shipments/{shipment_id}",
        "/shipments/{shipment_id}/dispatch",
        "/shipments/{shipment_id}/deliver",
    } <= set(paths)


async def test_an_unknown_shipment_is_404_problem(shipping_it: ShippingIT) -> None:
    missing = uuid.uuid4()
    answer = await shipping_it.http.get(f"/shipments/{missing}", headers=STAFF)
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert str(missing) in answer.json()["detail"]
    answer = await shipping_it.http.post(f"/shipments/{missing}/dispatch", headers=STAFF)
    assert answer.status_code == 404


async def test_list_uses_the_list_envelope(shipping_it: ShippingIT) -> None:
    await new_shipment(shipping_it)
    await new_shipment(shipping_it)
    answer = await shipping_it.http.get("/shipments", params={"limit": 1, "offset": 1}, headers=STAFF)
    assert answer.status_code == 200
    page = answer.json()
    assert set(page) == {"entries", "total", "limit", "offset", "page", "total_pages", "has_next", "has_prev"}
    assert (len(page["entries"]), page["limit"], page["offset"], page["page"]) == (1, 1, 1, 2)
    assert page["total"] >= 2
    assert page["has_prev"] is True
    assert (await shipping_it.http.get("/shipments", params={"limit": 0}, headers=STAFF)).status_code == 422


async def test_dispatch_and_deliver_publish_events(shipping_it: ShippingIT) -> None:
    order_id, shipment_id = await new_shipment(shipping_it)
    answer = await shipping_it.http.post(f"/shipments/{shipment_id}/dispatch", headers=STAFF)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "DISPATCHED"
    (dispatched,) = await shipping_it.shipments.wait_for(event("ShipmentDispatched", order_id=order_id))
    assert dispatched.key == str(order_id).encode()
    data = envelope_of(dispatched)["data"]
    assert (data["shipment_id"], data["version"]) == (shipment_id, 2)
    assert data["tracking_number"] == answer.json()["tracking_number"]

    answer = await shipping_it.http.post(f"/shipments/{shipment_id}/deliver", headers=STAFF)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "DELIVERED"
    assert [h["status"] for h in body["history"]] == ["CREATED", "DISPATCHED", "DELIVERED"]
    (delivered,) = await shipping_it.shipments.wait_for(event("ShipmentDelivered", order_id=order_id))
    assert envelope_of(delivered)["data"]["version"] == 3


async def test_staff_endpoints_need_the_token(shipping_it: ShippingIT) -> None:
    _, shipment_id = await new_shipment(shipping_it)
    for path in (f"/shipments/{shipment_id}/dispatch", f"/shipments/{shipment_id}/deliver"):
        answer = await shipping_it.http.post(path)
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"].startswith("Bearer")
        wrong = await shipping_it.http.post(path, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
    for path in (f"/shipments/{shipment_id}", "/shipments", f"/shipments?order_id={uuid.uuid4()}"):
        # Reads are STAFF too: shipments hold every customer's address.
        anonymous = await shipping_it.http.get(path)
        assert anonymous.status_code == 401, path
        assert "street" not in anonymous.text
        assert (await shipping_it.http.get(path, headers={"Authorization": "Bearer nope"})).status_code == 401
    assert (await shipping_it.http.get(f"/shipments/{shipment_id}", headers=STAFF)).json()[
        "status"
    ] == "CREATED"


async def test_forbidden_moves_are_409_without_effect(shipping_it: ShippingIT) -> None:
    order_id, shipment_id = await new_shipment(shipping_it)
    base = f"/shipments/{shipment_id}"
    early = await shipping_it.http.post(f"{base}/deliver", headers=STAFF)
    assert early.status_code == 409
    assert early.headers["content-type"].startswith("application/problem+json")
    assert "its status is CREATED; deliver needs DISPATCHED" in early.json()["detail"]
    assert (await shipping_it.http.post(f"{base}/dispatch", headers=STAFF)).status_code == 200
    # docs/reference/http.md: 409 unless CREATED
    again = await shipping_it.http.post(f"{base}/dispatch", headers=STAFF)
    assert again.status_code == 409
    assert "already DISPATCHED" in again.json()["detail"]
    assert (await shipping_it.http.post(f"{base}/deliver", headers=STAFF)).status_code == 200
    assert (await shipping_it.http.post(f"{base}/deliver", headers=STAFF)).status_code == 409
    assert (await shipping_it.http.post(f"{base}/dispatch", headers=STAFF)).status_code == 409
    await shipping_it.shipments.wait_for(event("ShipmentDelivered", order_id=order_id))
    body = (await shipping_it.http.get(base, headers=STAFF)).json()
    assert (body["status"], body["version"]) == ("DELIVERED", 3)
    assert (
        len([r for r in shipping_it.shipments.records if event("ShipmentDispatched", order_id=order_id)(r)])
        == 1
    )


def gauge(metrics: str, name: str) -> float:
    (line,) = [line for line in metrics.splitlines() if line.startswith(f"{name} ")]
    return float(line.split()[1])


async def test_metrics_report_shipments_holding_stock_too_long(shipping_it: ShippingIT) -> None:
    _, shipment_id = await new_shipment(shipping_it)
    text = (await shipping_it.http.get("/metrics")).text
    assert gauge(text, "bookshelf_shipping_awaiting_dispatch") >= 1
    assert gauge(text, "bookshelf_shipping_awaiting_dispatch_max_seconds") == 172_800
    overdue_before = gauge(text, "bookshelf_shipping_awaiting_dispatch_overdue")
    async with shipping_it.components.engine.begin() as connection:  # created three days ago
        await connection.execute(
            sa.text("UPDATE shipments SET created_at = now() - interval '3 days' WHERE shipment_id = :s"),
            {"s": uuid.UUID(shipment_id)},
        )
    text = (await shipping_it.http.get("/metrics")).text
    assert gauge(text, "bookshelf_shipping_awaiting_dispatch_overdue") == overdue_before + 1
    assert gauge(text, "bookshelf_shipping_awaiting_dispatch_oldest_age_seconds") >= 3 * 86400 - 60
    assert (
        await shipping_it.http.post(f"/shipments/{shipment_id}/dispatch", headers=STAFF)
    ).status_code == 200
    text = (await shipping_it.http.get("/metrics")).text
    assert gauge(text, "bookshelf_shipping_awaiting_dispatch_overdue") == overdue_before
