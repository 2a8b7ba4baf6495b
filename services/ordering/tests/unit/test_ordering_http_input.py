"""Strict HTTP input of POST /orders: every rejection is a 422 problem naming the field (no database).

Requests that fail validation never reach the database, so the app is built with an unreachable one.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from bookshelf_messaging import KafkaSettings
from bookshelf_ordering.bootstrap import bootstrap
from bookshelf_ordering.config import OrderingSettings


@pytest.fixture
async def ordering_offline_client() -> AsyncIterator[httpx.AsyncClient]:
    settings = OrderingSettings(database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none")
    components = bootstrap(settings, KafkaSettings(bootstrap_servers="127.0.0.1:1"))
    transport = httpx.ASGITransport(app=components.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ordering") as client:
        yield client
    await components.engine.dispose()


STAFF = {"Authorization": "Bearer dev-admin-token"}


def body(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "customer": {"name": "Ada", "email": "ada@example.com"},
        "shipping_address": {"street": "1 Main St", "city": "Springfield", "zip_code": "12345"},
        "items": [{"book_id": str(uuid.uuid4()), "quantity": 1}],
    }
    payload.update(changes)
    return payload


async def fields_of(client: httpx.AsyncClient, payload: Any) -> list[str]:
    response = await client.post("/orders", json=payload)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422
    return sorted(error["field"] for error in problem["errors"])


async def test_unknown_top_level_field_is_named(ordering_offline_client: httpx.AsyncClient) -> None:
    assert await fields_of(ordering_offline_client, body(coupon="FREE")) == ["coupon"]


async def test_unknown_nested_fields_are_named(ordering_offline_client: httpx.AsyncClient) -> None:
    payload = body(items=[{"book_id": str(uuid.uuid4()), "quantity": 1, "price": "1.00"}])
    payload["customer"]["phone"] = "123"
    assert await fields_of(ordering_offline_client, payload) == ["customer.phone", "items[0].price"]


async def test_blank_street_counts_as_missing(ordering_offline_client: httpx.AsyncClient) -> None:
    payload = body(shipping_address={"street": "   ", "city": "Springfield", "zip_code": "12345"})
    assert await fields_of(ordering_offline_client, payload) == ["shipping_address.street"]


async def test_address_rules(ordering_offline_client: httpx.AsyncClient) -> None:
    address = {"street": "x" * 201, "city": "c", "zip_code": "z" * 21, "country": "USA", "state": "s" * 51}
    assert await fields_of(ordering_offline_client, body(shipping_address=address)) == [
        "shipping_address.country",
        "shipping_address.state",
        "shipping_address.street",
        "shipping_address.zip_code",
    ]


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "a b@example.com", "x" * 250 + "@example.com"])
async def test_invalid_email_is_named(ordering_offline_client: httpx.AsyncClient, email: str) -> None:
    payload = body(customer={"name": "Ada", "email": email})
    assert await fields_of(ordering_offline_client, payload) == ["customer.email"]


async def test_customer_name_rules(ordering_offline_client: httpx.AsyncClient) -> None:
    for name in ("  ", "n" * 151):
        payload = body(customer={"name": name, "email": "ada@example.com"})
        assert await fields_of(ordering_offline_client, payload) == ["customer.name"]


@pytest.mark.parametrize("quantity", [0, 101, "2", 1.5, None])
async def test_quantity_must_be_an_integer_1_to_100(
    ordering_offline_client: httpx.AsyncClient, quantity: Any
) -> None:
    payload = body(
        items=[
            {"book_id": str(uuid.uuid4()), "quantity": 1},
            {"book_id": str(uuid.uuid4()), "quantity": quantity},
        ]
    )
    assert await fields_of(ordering_offline_client, payload) == ["items[1].quantity"]


async def test_book_id_must_be_a_uuid(ordering_offline_client: httpx.AsyncClient) -> None:
    payload = body(items=[{"book_id": "dune", "quantity": 1}])
    assert await fields_of(ordering_offline_client, payload) == ["items[0].book_id"]


@pytest.mark.parametrize("count", [0, 51])
async def test_1_to_50_items(ordering_offline_client: httpx.AsyncClient, count: int) -> None:
    items = [{"book_id": str(uuid.uuid4()), "quantity": 1} for _ in range(count)]
    assert await fields_of(ordering_offline_client, body(items=items)) == ["items"]


async def test_missing_parts_are_named(ordering_offline_client: httpx.AsyncClient) -> None:
    assert await fields_of(ordering_offline_client, {"items": []}) == [
        "customer",
        "items",
        "shipping_address",
    ]


async def test_bad_ids_and_filters_are_422(ordering_offline_client: httpx.AsyncClient) -> None:
    assert (await ordering_offline_client.get("/orders/not-a-uuid")).status_code == 422
    assert (await ordering_offline_client.post("/orders/not-a-uuid/cancel")).status_code == 422
    response = await ordering_offline_client.get("/orders", params={"status": "LOST"}, headers=STAFF)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["status"]
    response = await ordering_offline_client.get("/orders", params={"limit": 101}, headers=STAFF)
    assert [e["field"] for e in response.json()["errors"]] == ["limit"]


async def offline_client(**settings: Any) -> tuple[httpx.AsyncClient, Any]:
    config = OrderingSettings(database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none", **settings)
    components = bootstrap(config, KafkaSettings(bootstrap_servers="127.0.0.1:1"))
    transport = httpx.ASGITransport(app=components.app)
    return httpx.AsyncClient(transport=transport, base_url="http://ordering"), components


async def test_placement_rate_limit_is_a_429_per_client_and_spares_staff() -> None:
    client, components = await offline_client(place_rate_per_minute=1, place_burst=2)
    async with client:
        # Invalid bodies still count: the limit is checked before anything else of the request.
        for _ in range(2):
            assert (await client.post("/orders", json={})).status_code == 422
        limited = await client.post("/orders", json={})
        assert limited.status_code == 429
        assert limited.headers["content-type"] == "application/problem+json"
        assert int(limited.headers["Retry-After"]) >= 1
        assert "too many orders" in limited.json()["detail"]
        assert (await client.post("/orders", json={}, headers=STAFF)).status_code == 422
    await components.engine.dispose()


async def test_placement_rate_limit_can_be_switched_off() -> None:
    client, components = await offline_client(place_rate_per_minute=0, place_burst=1)
    async with client:
        for _ in range(5):
            assert (await client.post("/orders", json={})).status_code == 422
    await components.engine.dispose()


async def test_order_routes_refuse_anonymous_and_malformed_credentials(
    ordering_offline_client: httpx.AsyncClient,
) -> None:
    order = f"/orders/{uuid.uuid4()}"
    for method, path in (("GET", "/orders"), ("GET", order), ("POST", f"{order}/cancel")):
        anonymous = await ordering_offline_client.request(method, path)
        assert anonymous.status_code == 401, path
        assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
        basic = await ordering_offline_client.request(method, path, headers={"Authorization": "Basic eDp5"})
        assert basic.status_code == 401, path
    wrong = await ordering_offline_client.get("/orders", headers={"Authorization": "Bearer not-staff"})
    assert wrong.status_code == 401


def test_openapi_declares_both_bearer_schemes_and_the_headers() -> None:
    app = bootstrap(
        OrderingSettings(database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none"),
        KafkaSettings(bootstrap_servers="127.0.0.1:1"),
    ).app
    spec = app.openapi()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["staffToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["staffToken"]["description"],
    }
    assert schemes["orderToken"]["scheme"] == "bearer"
    paths = spec["paths"]
    assert paths["/orders"]["get"]["security"] == [{"staffToken": []}]
    assert {"staffToken": []} in paths["/orders/{order_id}"]["get"]["security"]
    assert {"orderToken": []} in paths["/orders/{order_id}/cancel"]["post"]["security"]
    assert "security" not in paths["/orders"]["post"]
    post_headers = {p["name"] for p in paths["/orders"]["post"]["parameters"] if p["in"] == "header"}
    assert post_headers == {"Idempotency-Key", "X-Correlation-ID"}
    assert "201" in paths["/orders"]["post"]["responses"]
