"""A database that is down, or that ends the session mid-request (as a restart does), answers 503
problem+json with Retry-After, never 500: while PostgreSQL restarts, clients get an honest "retry
shortly" (tests/faults scenario 3 found a 500 per request there). Other errors stay 500."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import sqlalchemy as sa
from bookshelf_infra.testing import TestDatabase, free_port
from bookshelf_messaging.db import create_engine
from bookshelf_servicekit import create_app
from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncEngine

PROBLEM_JSON = "application/problem+json"


def build_router() -> APIRouter:
    router = APIRouter()

    @router.get("/clock")
    async def clock(request: Request) -> dict[str, str]:
        """The database's clock."""
        engine: AsyncEngine = request.app.state.engine
        async with engine.connect() as conn:
            return {"now": str(await conn.scalar(sa.text("SELECT now()")))}

    @router.post("/ended")
    async def ended(request: Request) -> dict[str, str]:
        """The server ends this session mid-request, as `pg_ctl stop -m fast` does to every session."""
        engine: AsyncEngine = request.app.state.engine
        async with engine.connect() as conn:
            await conn.execute(sa.text("SELECT pg_terminate_backend(pg_backend_pid())"))
        return {"status": "unreachable"}

    @router.get("/broken")
    async def broken(request: Request) -> dict[str, str]:
        """A bug, not an outage."""
        raise RuntimeError("a bug")

    return router


async def _client(url: str) -> AsyncIterator[httpx.AsyncClient]:
    engine = create_engine(url)
    app = create_app("test", admin_token="t", routers=[build_router()])
    app.state.engine = engine
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http
    await engine.dispose()


@pytest.fixture
async def down() -> AsyncIterator[httpx.AsyncClient]:
    """An app whose database address has nobody listening (PostgreSQL stopped)."""
    async for client in _client(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/gone"):
        yield client


@pytest.fixture
async def up(database: TestDatabase) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(database.url):
        yield client


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert response.headers["retry-after"] == "1"
    body = response.json()
    assert body["status"] == 503
    assert body["correlation_id"] == response.headers["x-correlation-id"]


async def test_database_down_is_503(down: httpx.AsyncClient) -> None:
    assert_unavailable(await down.get("/clock"))


async def test_session_ended_by_the_server_is_503(up: httpx.AsyncClient) -> None:
    assert (await up.get("/clock")).status_code == 200
    assert_unavailable(await up.post("/ended"))
    assert (await up.get("/clock")).status_code == 200  # and the next request is served again


async def test_other_errors_stay_500(up: httpx.AsyncClient) -> None:
    response = await up.get("/broken")
    assert response.status_code == 500, response.text
    assert "retry-after" not in response.headers
