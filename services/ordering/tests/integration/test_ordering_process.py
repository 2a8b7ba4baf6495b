"""``python -m bookshelf_ordering`` as a real process: migrates in dev mode, serves, stops on SIGTERM.

Runs the ``api`` role only: consumers with default settings would read the shared test topics.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from bookshelf_infra.testing import eventually, free_port, unique_name


@pytest.fixture
async def ordering_process(postgres_server: Any, kafka_bootstrap: str) -> AsyncIterator[str]:
    name = unique_name("ordering_proc")
    postgres_server.create_database(name)
    port = free_port()
    env = {
        **os.environ,
        "BOOKSHELF_ENV": "dev",
        "ORDERING_DATABASE_URL": postgres_server.sqlalchemy_url(name),
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bookshelf_ordering", "--role", "api", "--port", str(port), env=env
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 20)
            except TimeoutError:
                process.kill()
                await process.wait()
        postgres_server.drop_database(name)
    # uvicorn re-raises the captured SIGTERM after its graceful shutdown, so -SIGTERM is a clean stop.
    assert process.returncode in (0, -signal.SIGTERM)


async def test_the_process_migrates_serves_and_is_ready(ordering_process: str) -> None:
    async with httpx.AsyncClient(base_url=ordering_process, timeout=5) as client:

        async def ready() -> bool:
            return (await client.get("/readyz")).status_code == 200

        await eventually(ready, timeout=60, interval=0.2)
        assert (await client.get("/healthz")).json()["status"] == "ok"
        assert (await client.get("/orders")).status_code == 401  # the list is STAFF
        listed = await client.get("/orders", headers={"Authorization": "Bearer dev-admin-token"})
        assert listed.status_code == 200
        assert listed.json()["total"] == 0  # the tables exist: the process migrated its database
        assert (await client.get("/docs")).status_code == 200
        paths = (await client.get("/openapi.json")).json()["paths"]
        assert {"/orders", "/orders/{order_id}", "/orders/{order_id}/cancel"} <= set(paths)
