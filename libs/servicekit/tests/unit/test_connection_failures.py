"""A database whose socket directory disappeared answers 503 problem+json, not 500 (issue 16, 7a).

``GET /orders/{id}`` answered 500 when PostgreSQL's socket directory vanished under a running system:
asyncpg raises ``FileNotFoundError`` (an ``OSError``, not a ``ConnectionError``) when it connects to a
Unix socket that is not there. The connect attempt is real; nothing listens, nothing else is needed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from bookshelf_messaging.db import create_engine
from bookshelf_servicekit import create_app
from bookshelf_servicekit.problems import PROBLEM_JSON
from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncEngine


def build_router() -> APIRouter:
    router = APIRouter()

    @router.get("/orders/{order_id}")
    async def get_order(order_id: str, request: Request) -> dict[str, str]:
        """Reads the database, as ordering's GET /orders/{id} does."""
        engine: AsyncEngine = request.app.state.engine
        async with engine.connect() as conn:
            await conn.scalar(sa.text("SELECT 1"))
        return {"order_id": order_id}

    @router.get("/report")
    async def report() -> dict[str, str]:
        """Application code that misses a file: a bug, still 500."""
        with open("/nonexistent/bookshelf/report.csv") as handle:  # noqa: ASYNC230
            return {"report": handle.read()}

    return router


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    # The socket directory of a PostgreSQL that was removed (asyncpg: host=<dir> means a Unix socket).
    engine = create_engine(f"postgresql+asyncpg://postgres@/orders?host={tmp_path}/gone")
    app = create_app("ordering", admin_token="t", routers=[build_router()])
    app.state.engine = engine
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http
    await engine.dispose()


async def test_missing_socket_directory_is_503_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/orders/0b9f5c1e-4a2d-4c43-9a0e-52d7f2b1c001")
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.headers["retry-after"] == "1"
    body = response.json()
    assert body["status"] == 503
    assert body["correlation_id"] == response.headers["x-correlation-id"]


async def test_a_missing_file_in_application_code_stays_500(client: httpx.AsyncClient) -> None:
    response = await client.get("/report")
    assert response.status_code == 500, response.text
    assert "retry-after" not in response.headers
