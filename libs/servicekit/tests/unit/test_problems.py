"""problem+json shapes for validation, not found, auth, unknown routes and crashes."""

from __future__ import annotations

import httpx
from bookshelf_servicekit.problems import PROBLEM_JSON

from .conftest import TOKEN

STAFF = {"Authorization": f"Bearer {TOKEN}"}


def assert_problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert set(body) >= {"type", "title", "status", "detail", "correlation_id"}
    assert body["status"] == status
    assert body["correlation_id"] == response.headers["x-correlation-id"]
    return body


async def test_validation_error_names_the_nested_field(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/things", json={"name": "x", "price": {"amount": -1, "currency": "USD"}}, headers=STAFF
    )
    body = assert_problem(response, 422)
    assert body["errors"] == [{"field": "price.amount", "message": "Input should be greater than 0"}]
    assert "price.amount" in str(body["detail"])


async def test_missing_and_malformed_bodies_are_422(client: httpx.AsyncClient) -> None:
    missing = assert_problem(await client.post("/things", json={"name": "x"}, headers=STAFF), 422)
    assert missing["errors"] == [{"field": "price", "message": "Field required"}]
    malformed = await client.post(
        "/things", content=b"{not json", headers=STAFF | {"Content-Type": "application/json"}
    )
    assert assert_problem(malformed, 422)["errors"][0]["field"].startswith("body")  # type: ignore[index]


async def test_registered_domain_error_is_404_with_its_message(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/things/teapot"), 404)
    assert body["title"] == "Thing missing"
    assert body["detail"] == "no thing named 'teapot'"
    assert str(body["type"]).endswith("/thing-missing")
    assert "errors" not in body


async def test_unknown_route_and_method_are_problems(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/nowhere"), 404)
    assert_problem(await client.delete("/things"), 405)


async def test_query_validation_names_the_parameter(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/things", params={"limit": 0}), 422)
    assert body["errors"][0]["field"] == "limit"  # type: ignore[index]


async def test_unhandled_error_is_500_problem_with_correlation_header(client: httpx.AsyncClient) -> None:
    response = await client.get("/boom", headers={"X-Correlation-ID": "corr-boom"})
    body = assert_problem(response, 500)
    assert body["correlation_id"] == "corr-boom"
    assert "kaboom" not in response.text  # internals stay in the logs


def test_field_names_from_locations() -> None:
    from bookshelf_servicekit.errors import field_name

    assert field_name(("body", "price", "amount")) == "price.amount"
    assert field_name(("body", "tags", 2)) == "tags[2]"
    assert field_name(("query", "limit")) == "limit"
    assert field_name(("body", 7)) == "body[7]"
    assert field_name(("body",)) == "body"
