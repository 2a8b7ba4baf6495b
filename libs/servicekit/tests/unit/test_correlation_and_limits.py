"""Correlation id in and out, body limits (default and per path), pagination, ops endpoints."""

from __future__ import annotations

import httpx
import pytest
from bookshelf_messaging import context
from bookshelf_servicekit.health import Readiness
from bookshelf_servicekit.middleware import RequestContextMiddleware
from bookshelf_servicekit.problems import PROBLEM_JSON

MIB = 1024 * 1024


async def test_given_correlation_id_is_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/things", headers={"X-Correlation-ID": "abc-123"})
    assert response.status_code == 200
    assert response.headers["x-correlation-id"] == "abc-123"


async def test_correlation_id_is_generated_when_missing(client: httpx.AsyncClient) -> None:
    first = (await client.get("/healthz")).headers["x-correlation-id"]
    second = (await client.get("/healthz")).headers["x-correlation-id"]
    assert first
    assert second
    assert first != second


async def test_correlation_id_of_200_chars_is_accepted_and_201_rejected(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz", headers={"X-Correlation-ID": "a" * 200})).status_code == 200
    response = await client.get("/healthz", headers={"X-Correlation-ID": "a" * 201})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["errors"][0]["field"] == "X-Correlation-ID"
    assert body["correlation_id"] == response.headers["x-correlation-id"] != "a" * 201


async def test_correlation_id_is_bound_in_the_messaging_context() -> None:
    seen: list[str | None] = []

    async def app(scope: dict, receive: object, send: object) -> None:  # type: ignore[type-arg]
        seen.append(context.correlation_id())
        await send({"type": "http.response.start", "status": 204, "headers": []})  # type: ignore[operator]
        await send({"type": "http.response.body", "body": b""})  # type: ignore[operator]

    wrapped = RequestContextMiddleware(app, service="t")  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=wrapped)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        response = await http.get("/", headers={"X-Correlation-ID": "ctx-1"})
    assert response.status_code == 204
    assert seen == ["ctx-1"]
    assert context.correlation_id() is None  # unbound after the request


async def test_body_over_default_limit_is_413(client: httpx.AsyncClient) -> None:
    response = await client.post("/upload", content=b"x" * (MIB + 1))
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["status"] == 413
    assert response.headers["x-correlation-id"]


async def test_body_at_default_limit_is_accepted(client: httpx.AsyncClient) -> None:
    response = await client.post("/upload", content=b"x" * MIB)
    assert response.json() == {"size": MIB}


async def test_streamed_body_without_content_length_is_counted(client: httpx.AsyncClient) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(3):
            yield b"x" * (MIB // 2)

    response = await client.post("/upload", content=chunks())
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM_JSON


async def test_per_path_limit_allows_larger_bodies(client: httpx.AsyncClient) -> None:
    ok = await client.post(
        "/bulk", content=b"x" * (3 * MIB), headers={"Content-Type": "application/octet-stream"}
    )
    assert ok.json() == {"size": 3 * MIB}
    too_big = await client.post(
        "/bulk", content=b"x" * (4 * MIB + 1), headers={"Content-Type": "application/octet-stream"}
    )
    assert too_big.status_code == 413


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (
            {},
            {
                "total": 45,
                "limit": 20,
                "offset": 0,
                "page": 1,
                "total_pages": 3,
                "has_next": True,
                "has_prev": False,
            },
        ),
        ({"limit": 20, "offset": 40}, {"page": 3, "has_next": False, "has_prev": True}),
    ],
)
async def test_pagination_envelope(client: httpx.AsyncClient, params: dict, expected: dict) -> None:  # type: ignore[type-arg]
    body = (await client.get("/things", params=params)).json()
    assert {k: body[k] for k in expected} == expected
    assert body["entries"][0] == params.get("offset", 0)


async def test_healthz_and_metrics(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json()["status"] == "ok"
    await client.get("/things")
    metrics = await client.get("/metrics")
    assert metrics.status_code == 200
    assert (
        'bookshelf_http_requests_total{method="GET",route="/things",service="test",status="200"}'
        in metrics.text
    )


async def test_readyz_is_503_problem_until_every_check_passes(
    client: httpx.AsyncClient, readiness: Readiness
) -> None:
    state = {"up": False}

    async def database() -> str | None:
        return None

    async def consumers() -> str | None:
        return None if state["up"] else "consumer group not joined"

    readiness.add("database", database)
    readiness.add("consumers", consumers)
    down = await client.get("/readyz")
    assert down.status_code == 503
    assert down.headers["content-type"] == PROBLEM_JSON
    assert down.json()["errors"] == [{"field": "consumers", "message": "consumer group not joined"}]
    state["up"] = True
    up = await client.get("/readyz")
    assert up.status_code == 200
    assert up.json()["checks"] == {"database": "ok", "consumers": "ok"}
