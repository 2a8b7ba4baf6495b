"""`bookshelf trace` on an order placed through the running system: the whole saga as a causation tree,
from the observatory's index and, with the observatory out of reach, from a scan of the topics."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from typing import Any

import httpx
import orjson
from bookshelf_infra.testing import eventually

from tests.e2e.system import ADMIN, RunningSystem

SAGA = ("OrderPlaced", "ReserveStock", "StockReserved", "ConfirmOrder", "CreateShipment", "ShipmentCreated")


async def add_book(client: httpx.AsyncClient, system: RunningSystem, title: str = "Dune") -> str:
    """A new book; returns once inventory has its stock record (so an order can reserve it)."""
    body = {"title": title, "author": "Observatory E2E", "price": {"amount": "9.99", "currency": "USD"}}
    created = await client.post(f"{system.url('catalog')}/books", json=body, headers=ADMIN)
    assert created.status_code == 201, created.text
    book_id: str = created.json()["book_id"]

    async def stocked() -> bool:
        return (await client.get(f"{system.url('inventory')}/inventory/{book_id}")).status_code == 200

    await eventually(stocked, timeout=60, interval=0.2, message=f"inventory never stocked {book_id}")
    return book_id


async def place_order(
    client: httpx.AsyncClient, system: RunningSystem, book_id: str, correlation_id: str
) -> str:
    """An order for one copy, retried while ordering's catalog replica does not know the book yet."""
    body = {
        "customer": {"name": "Observatory E2E", "email": "observatory@example.com"},
        "shipping_address": {
            "street": "1 Main St",
            "city": "Springfield",
            "zip_code": "12345",
            "country": "US",
        },
        "items": [{"book_id": book_id, "quantity": 1}],
    }

    async def placed() -> str:
        answer = await client.post(
            f"{system.url('ordering')}/orders", json=body, headers={"X-Correlation-ID": correlation_id}
        )
        assert answer.status_code == 201, answer.text
        order_id: str = answer.json()["order_id"]
        return order_id

    return await eventually(placed, timeout=60, interval=0.2, message="ordering never accepted the order")


def nodes(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Every node of a trace document, depth first."""
    found, stack = [], list(document["roots"])
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(node["children"])
    return found


def parents(document: dict[str, Any]) -> dict[str, str | None]:
    """Message type -> the type of the message that caused it (None for roots)."""
    result: dict[str, str | None] = {root["type"]: None for root in document["roots"]}
    for node in nodes(document):
        for child in node["children"]:
            result.setdefault(child["type"], node["type"])
    return result


async def wait_for_saga_trace(system: RunningSystem, query: str) -> dict[str, Any]:
    """Poll the observatory until the trace of ``query`` holds the saga up to ShipmentCreated."""

    async def complete() -> dict[str, Any] | None:
        async with httpx.AsyncClient(timeout=5) as client:
            answer = await client.get(f"{system.url('observatory')}/api/trace/{query}")
        document: dict[str, Any] = answer.json()
        return document if answer.status_code == 200 and set(SAGA) <= set(parents(document)) else None

    return await eventually(complete, timeout=90, interval=0.5, message=f"the saga of {query} in the index")


async def bookshelf(
    system: RunningSystem, *args: str, observatory_url: str | None = None
) -> tuple[int, str, str]:
    """Run the CLI as a user would; returns (exit status, stdout, stderr)."""
    env = dict(os.environ) | {
        "KAFKA_BOOTSTRAP_SERVERS": system.kafka_bootstrap,
        "OBSERVATORY_URL": observatory_url or system.url("observatory"),
        "COLUMNS": "200",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bookshelf_cli.main",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


def assert_saga_tree(document: dict[str, Any]) -> None:
    """The saga (docs/domain.md) as causation: each step under the message that caused it, by its producer."""
    caused_by = parents(document)
    assert caused_by["OrderPlaced"] is None
    assert caused_by["ReserveStock"] == "OrderPlaced"
    assert caused_by["StockReserved"] == "ReserveStock"
    assert caused_by["ConfirmOrder"] == "StockReserved"
    assert caused_by["CreateShipment"] == "StockReserved"
    assert caused_by["ShipmentCreated"] == "CreateShipment"
    by_type = {n["type"]: n for n in nodes(document)}
    expected = {
        "OrderPlaced": ("ordering", "ordering.orders"),
        "ReserveStock": ("fulfillment", "inventory.commands"),
        "StockReserved": ("inventory", "inventory.reservations"),
        "CreateShipment": ("fulfillment", "shipping.commands"),
        "ShipmentCreated": ("shipping", "shipping.shipments"),
    }
    for type_name, (producer, topic) in expected.items():
        node = by_type[type_name]
        assert (node["producer"], node["topic"]) == (producer, topic), node
        assert node["offset"] >= 0
        assert node["occurred_at"]
    for type_name in ("OrderPlaced", "ReserveStock", "StockReserved", "CreateShipment"):
        node = by_type[type_name]  # its effect is in the tree, unless some group's dead letter is open
        failed = any(letter["open"] for letter in node["dead_letters"])
        assert node["outcome"] == ("dead_lettered" if failed else "handled"), node


async def test_trace_of_an_order_shows_the_saga_as_a_tree(running_system: RunningSystem) -> None:
    correlation_id = f"e2e-trace-{uuid.uuid4()}"
    async with httpx.AsyncClient(timeout=10) as client:
        book_id = await add_book(client, running_system)
        order_id = await place_order(client, running_system, book_id, correlation_id)
    await wait_for_saga_trace(running_system, order_id)

    status, stdout, stderr = await bookshelf(running_system, "trace", order_id, "--json")
    assert status == 0, stderr
    document = orjson.loads(stdout)
    assert document["source"] == "index"
    assert document["correlation_ids"] == [correlation_id]
    assert_saga_tree(document)
    assert document["roots"][0]["key"] == order_id

    status, stdout, stderr = await bookshelf(running_system, "trace", correlation_id)
    assert status == 0, stderr
    assert f"trace {correlation_id}" in stdout
    for line in (
        "OrderPlaced",
        "ReserveStock",
        "ShipmentCreated",
        "ordering.orders[",
        "fulfillment",
        "handled",
    ):
        assert line in stdout, stdout
    assert "└── " in stdout


async def test_trace_scans_the_topics_when_the_observatory_is_away(running_system: RunningSystem) -> None:
    correlation_id = f"e2e-scan-{uuid.uuid4()}"
    async with httpx.AsyncClient(timeout=10) as client:
        book_id = await add_book(client, running_system, "Solaris")
        await place_order(client, running_system, book_id, correlation_id)
    indexed = await wait_for_saga_trace(running_system, correlation_id)

    status, stdout, stderr = await bookshelf(
        running_system, "trace", correlation_id, "--json", observatory_url="http://127.0.0.1:9"
    )
    assert status == 0, stderr
    assert "scanning the topics" in stderr
    scanned = orjson.loads(stdout)
    assert scanned["source"] == "topic scan"
    assert_saga_tree(scanned)
    assert {n["message_id"] for n in nodes(scanned)} >= {n["message_id"] for n in nodes(indexed)}

    status, _, stderr = await bookshelf(running_system, "trace", f"nothing-{uuid.uuid4()}", "--scan")
    assert status == 1
    assert "no message has correlation id" in stderr
