"""Every service's write bodies reject unknown fields (422 naming the field) and oversized bodies (413).

The apps are built as their bootstraps build them, on a database address nothing listens on: both
rejections happen before a handler runs, so a request that got through would fail loudly (500).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from bookshelf_servicekit.middleware import MIB

from tests.contract.harness import SERVICES, STAFF, build_app

pytestmark = pytest.mark.unit

PROBLEM_JSON = "application/problem+json"
BOOK = {"title": "Dune", "author": "Frank Herbert", "price": {"amount": "9.99", "currency": "USD"}}
ORDER = {
    "customer": {"name": "Ada", "email": "ada@example.com"},
    "shipping_address": {"street": "1 Main St", "city": "Springfield", "zip_code": "12345"},
    "items": [{"book_id": str(uuid.uuid4()), "quantity": 1}],
}
SOME_ID = str(uuid.uuid4())


def _with(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``body`` with ``value`` added at a dotted ``path`` (``items.0.gift``)."""
    copy: Any = _copy(body)
    *parents, leaf = path.split(".")
    node = copy
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    node[leaf] = value
    result: dict[str, Any] = copy
    return result


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


# service, method, path, body with one unknown field, the field the answer must name
UNKNOWN_FIELDS = [
    ("catalog", "POST", "/books", _with(BOOK, "surprise", 1), "surprise"),
    ("catalog", "POST", "/books", _with(BOOK, "price.cents", 999), "price.cents"),
    ("catalog", "PATCH", f"/books/{SOME_ID}", {"title": "New", "subtitle": "x"}, "subtitle"),
    ("ordering", "POST", "/orders", _with(ORDER, "coupon", "FREE"), "coupon"),
    ("ordering", "POST", "/orders", _with(ORDER, "customer.phone", "555"), "customer.phone"),
    ("ordering", "POST", "/orders", _with(ORDER, "shipping_address.floor", 3), "shipping_address.floor"),
    ("ordering", "POST", "/orders", _with(ORDER, "items.0.gift", True), "items[0].gift"),
    ("inventory", "POST", f"/inventory/{SOME_ID}/restock", {"quantity": 2, "note": "x"}, "note"),
    # Write routes that take no body reject one instead of ignoring it.
    ("ordering", "POST", f"/orders/{SOME_ID}/cancel", {"reason": "changed my mind"}, "reason"),
    ("shipping", "POST", f"/shipments/{SOME_ID}/dispatch", {"carrier": "UPS"}, "carrier"),
    ("shipping", "POST", f"/shipments/{SOME_ID}/deliver", {"signed_by": "Ada"}, "signed_by"),
    ("observatory", "POST", "/api/dead-letters/some-entry/replay", {"force": True}, "force"),
    ("observatory", "POST", "/api/dead-letters/some-entry/purge", {"force": True}, "force"),
    ("observatory", "POST", "/api/dead-letter-topics/orders/purge", {"force": True}, "force"),
]

# service, a write path (or any path: the limit is checked before routing)
WRITE_PATHS = [
    ("catalog", "/books"),
    ("catalog", "/webhooks/book-supply"),
    ("ordering", "/orders"),
    ("inventory", f"/inventory/{SOME_ID}/restock"),
    ("shipping", f"/shipments/{SOME_ID}/dispatch"),
    ("storefront-query", "/storefront"),
    ("observatory", "/api/dead-letters/some-entry/replay"),
]


@pytest.fixture
async def client_for() -> AsyncIterator[Callable[[str], httpx.AsyncClient]]:
    clients: list[httpx.AsyncClient] = []

    def make(name: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=build_app(name).app, raise_app_exceptions=False)
        client = httpx.AsyncClient(transport=transport, base_url=f"http://{name}", headers=STAFF)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


def test_every_service_is_covered() -> None:
    assert {name for name, _ in WRITE_PATHS} == set(SERVICES)


@pytest.mark.parametrize(
    ("service", "method", "path", "body", "field"),
    UNKNOWN_FIELDS,
    ids=[f"{s}-{m}-{f}" for s, m, _, _, f in UNKNOWN_FIELDS],
)
async def test_unknown_field_is_422_naming_it(
    client_for: Callable[[str], httpx.AsyncClient],
    service: str,
    method: str,
    path: str,
    body: dict[str, Any],
    field: str,
) -> None:
    response = await client_for(service).request(method, path, json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    errors = response.json()["errors"]
    assert {"field": field, "message": "Extra inputs are not permitted"} in errors, errors


@pytest.mark.parametrize(("service", "path"), WRITE_PATHS, ids=[f"{s}{p}" for s, p in WRITE_PATHS])
async def test_body_over_one_mib_is_413_problem(
    client_for: Callable[[str], httpx.AsyncClient], service: str, path: str
) -> None:
    response = await client_for(service).post(
        path, content=b"x" * (MIB + 1), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    # The supplier webhook takes at most one record's worth (MAX_MESSAGE_BYTES), the others 1 MiB.
    limit = "1,000,000 bytes" if path == "/webhooks/book-supply" else "1 MiB"
    assert f"request body exceeds the limit of {limit}" in response.json()["detail"]


async def test_bulk_import_allows_20_mib_and_no_more(client_for: Callable[[str], httpx.AsyncClient]) -> None:
    catalog = client_for("catalog")
    csv = {"Content-Type": "text/csv"}
    # Over the default limit but under the import's: the request gets past the limit (and, without a
    # token, stops at authentication instead of reaching the database).
    passed = await catalog.post(
        "/books/import", content=b"x" * (2 * MIB), headers={**csv, "Authorization": ""}
    )
    assert passed.status_code == 401, passed.text
    too_big = await catalog.post("/books/import", content=b"x" * (20 * MIB + 1), headers=csv)
    assert too_big.status_code == 413
    assert "20 MiB" in too_big.json()["detail"]
