"""``python -m bookshelf_inventory`` migrates its database, serves HTTP, becomes ready and stops.

Runs ``--role api``: consumers would read the real (shared) input topics of the test broker and
answer other tests' commands; the consumer runners are exercised by the other modules.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import httpx
from bookshelf_infra.testing import TestDatabase, eventually, free_port


async def test_the_process_becomes_ready_and_stops_on_sigterm(
    kafka_bootstrap: str, database: TestDatabase
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "INVENTORY_DATABASE_URL": database.url,  # dev mode migrates on start
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bookshelf_inventory",
        "--role",
        "api",
        "--port",
        str(port),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:

            async def ready() -> bool:
                response = await client.get("/readyz")
                return response.status_code == 200 and response.json()["status"] == "ready"

            await eventually(ready, timeout=60, message="inventory /readyz")
            checks = (await client.get("/readyz")).json()["checks"]
            assert set(checks) == {"database", "kafka"}
            assert (await client.get("/inventory?limit=1")).status_code == 200
            # API docs: the OpenAPI page and every route of docs/reference/http.md.
            assert (await client.get("/docs")).status_code == 200
            paths = (await client.get("/openapi.json")).json()["paths"]
            expected = {"/inventory", "/inventory/{book_id}", "/inventory/{book_id}/restock"}
            assert expected | {"/reservations/{order_id}"} <= set(paths)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    # uvicorn re-raises a captured SIGTERM once it has shut down, so until servicekit's runtime
    # swallows it the process ends "killed by SIGTERM" instead of exit status 0 (reported).
    assert process.returncode in (0, -signal.SIGTERM), stderr.decode()[-2000:]
