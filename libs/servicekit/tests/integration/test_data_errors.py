"""Values PostgreSQL refuses (NUL in text or JSONB, numeric overflow) answer 422, other errors 500."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from bookshelf_infra.testing import TestDatabase
from bookshelf_messaging.db import create_engine
from bookshelf_servicekit import create_app
from fastapi import APIRouter, Request
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncEngine

PROBLEM_JSON = "application/problem+json"
metadata = sa.MetaData()
notes = sa.Table(
    "notes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("text", sa.Text),
    sa.Column("doc", JSONB),
    sa.Column("amount", sa.Numeric(14, 2)),
)


def build_router() -> APIRouter:
    router = APIRouter()

    @router.post("/notes", status_code=201)
    async def add_note(request: Request) -> dict[str, str]:
        """Stores the JSON body's fields as they are."""
        body: dict[str, Any] = await request.json()
        values = {**body, "amount": Decimal(body["amount"]) if "amount" in body else None}
        engine: AsyncEngine = request.app.state.engine
        async with engine.begin() as conn:
            await conn.execute(sa.insert(notes).values(**values))
        return {"status": "stored"}

    @router.get("/notes")
    async def find_notes(request: Request, text: str = "") -> dict[str, int]:
        """How many notes have this text."""
        engine: AsyncEngine = request.app.state.engine
        async with engine.connect() as conn:
            found = await conn.scalar(sa.select(sa.func.count()).where(notes.c.text == text))
        return {"count": int(found or 0)}

    return router


@pytest.fixture
async def client(database: TestDatabase) -> AsyncIterator[httpx.AsyncClient]:
    engine = create_engine(database.url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    app = create_app("test", admin_token="t", routers=[build_router()])
    app.state.engine = engine
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http
    await engine.dispose()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"id": 1, "text": "before\x00after"}, "0x00"),
        ({"id": 2, "doc": {"note": "nul \x00 inside"}}, "Unicode escape"),
        ({"id": 3, "amount": "1e20"}, "numeric field overflow"),
        ({"id": 2**40}, "int"),  # beyond int4: asyncpg refuses to encode it
    ],
    ids=["nul-in-text", "nul-in-jsonb", "numeric-overflow", "integer-out-of-range"],
)
async def test_value_the_database_refuses_is_422_problem(
    client: httpx.AsyncClient, body: dict[str, Any], reason: str
) -> None:
    response = await client.post("/notes", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = response.json()
    assert problem["title"] == "Invalid input"
    assert reason in problem["errors"][0]["message"]
    assert problem["correlation_id"] == response.headers["x-correlation-id"]


async def test_other_database_errors_stay_500(client: httpx.AsyncClient) -> None:
    assert (await client.post("/notes", json={"id": 7, "text": "first"})).status_code == 201
    duplicate = await client.post("/notes", json={"id": 7, "text": "again"})  # a bug, not bad input
    assert duplicate.status_code == 500
    assert duplicate.headers["content-type"] == PROBLEM_JSON


async def test_a_nul_in_a_query_parameter_is_named(client: httpx.AsyncClient) -> None:
    assert (await client.get("/notes", params={"text": "fine"})).json() == {"count": 0}
    response = await client.get("/notes", params={"text": "a\x00b"})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["text"]
