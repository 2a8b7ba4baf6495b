"""Every OpenAPI document declares the bearer schemes on the routes that need them and the shared
headers, so `/docs` can send them (the Authorize button) and Schemathesis knows them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.contract.harness import SERVICES, build_app

pytestmark = pytest.mark.unit

STAFF_ONLY = {
    "catalog": [("post", "/books"), ("patch", "/books/{book_id}"), ("post", "/books/import")],
    "ordering": [("get", "/orders")],
    "inventory": [("post", "/inventory/{book_id}/restock"), ("get", "/reservations/{order_id}")],
    "shipping": [
        ("get", "/shipments"),
        ("get", "/shipments/{shipment_id}"),
        ("post", "/shipments/{shipment_id}/dispatch"),
        ("post", "/shipments/{shipment_id}/deliver"),
    ],
    "observatory": [("get", "/api/overview"), ("get", "/api/dead-letters"), ("get", "/api/sagas")],
}
ORDER = [("get", "/orders/{order_id}"), ("post", "/orders/{order_id}/cancel")]


def spec(name: str) -> dict[str, Any]:
    document: dict[str, Any] = build_app(name).app.openapi()
    return document


@pytest.mark.parametrize("name", SERVICES)
def test_schemes_and_headers_are_declared(name: str) -> None:
    document = spec(name)
    for method, path in STAFF_ONLY.get(name, []):
        assert document["paths"][path][method]["security"] == [{"staffToken": []}], (method, path)
        assert document["components"]["securitySchemes"]["staffToken"]["scheme"] == "bearer"
    for operations in document["paths"].values():
        for operation in operations.values():
            headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
            assert "X-Correlation-ID" in headers
    if name == "ordering":
        for method, path in ORDER:
            security = document["paths"][path][method]["security"]
            assert {"staffToken": []} in security
            assert {"orderToken": []} in security
        place = document["paths"]["/orders"]["post"]
        assert "security" not in place
        assert "Idempotency-Key" in {p["name"] for p in place["parameters"]}
    if name == "storefront-query":
        assert all("security" not in op for ops in document["paths"].values() for op in ops.values())
