"""Staff bearer authentication."""

from __future__ import annotations

import httpx
import pytest

from .conftest import TOKEN

THING = {"name": "lamp", "price": {"amount": 3, "currency": "USD"}}


async def test_valid_token_is_accepted(client: httpx.AsyncClient) -> None:
    response = await client.post("/things", json=THING, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 201


@pytest.mark.parametrize(
    "header",
    [None, "Bearer wrong", f"Basic {TOKEN}", "Bearer ", f"Bearer {TOKEN}x", TOKEN],
)
async def test_missing_or_bad_token_is_401_problem(client: httpx.AsyncClient, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    response = await client.post("/things", json=THING, headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")
    body = response.json()
    assert body["status"] == 401
    assert body["correlation_id"] == response.headers["x-correlation-id"]
