"""`bookshelf audit` on a system of its own (drift is planted in its databases, which would disturb
the shared one): healthy after a few sagas, then each planted inconsistency is reported with its ids."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import httpx
import orjson
import pytest
from bookshelf_infra.testing import eventually

from tests.e2e.system import ADMIN, RunningSystem, start_system, system_home

SERVICES = ["catalog", "ordering", "inventory", "shipping", "fulfillment"]
ADDRESS = {"street": "1 Main St", "city": "Springfield", "zip_code": "12345", "country": "US"}


@pytest.fixture(scope="module")
def audited_system() -> Iterator[RunningSystem]:
    with system_home("bookshelf-audit") as home:
        system = start_system(home, services=SERVICES)
        yield system
        system.stop()


@pytest.fixture(scope="module")
async def orders(audited_system: RunningSystem) -> AsyncIterator[dict[str, Any]]:
    """A book, an order waiting for dispatch, a delivered one and a cancelled one."""
    async with httpx.AsyncClient(timeout=10, headers=ADMIN) as client:  # staff: reads every order
        shop = _Shop(audited_system, client)
        book = await shop.add_book()
        waiting, delivered, cancelled = [await shop.order(book, 1) for _ in range(3)]
        for order_id in (waiting, delivered, cancelled):
            await shop.wait_saga(order_id, "AWAITING_DISPATCH")
        shipment = await shop.shipment(delivered)
        for action, state in (("dispatch", "SHIPPED"), ("deliver", "DELIVERED")):
            assert (
                await client.post(f"{shop.url('shipping')}/shipments/{shipment}/{action}", headers=ADMIN)
            ).status_code == 200
            await shop.wait_saga(delivered, state)
        assert (await client.post(f"{shop.url('ordering')}/orders/{cancelled}/cancel")).status_code == 202
        await shop.wait_saga(cancelled, "CANCELLED")
        yield {"book": book, "waiting": waiting, "delivered": delivered, "cancelled": cancelled}


class _Shop:
    def __init__(self, system: RunningSystem, client: httpx.AsyncClient) -> None:
        self.system, self.client = system, client

    def url(self, service: str) -> str:
        return self.system.url(service)

    async def add_book(self) -> str:
        body = {
            "title": f"Audit {uuid.uuid4().hex[:6]}",
            "author": "A",
            "price": {"amount": "5.00", "currency": "USD"},
        }
        answer = await self.client.post(f"{self.url('catalog')}/books", json=body, headers=ADMIN)
        assert answer.status_code == 201, answer.text
        return str(answer.json()["book_id"])

    async def order(self, book: str, quantity: int) -> str:
        body = {
            "customer": {"name": "Audit", "email": "audit@example.com"},
            "shipping_address": ADDRESS,
            "items": [{"book_id": book, "quantity": quantity}],
        }

        async def placed() -> str:
            answer = await self.client.post(f"{self.url('ordering')}/orders", json=body)
            assert answer.status_code == 201, answer.text  # 422 until ordering's replica knows the book
            return str(answer.json()["order_id"])

        return await eventually(placed, timeout=60, interval=0.2, message="ordering never accepted the order")

    async def wait_saga(self, order_id: str, state: str) -> None:
        async def reached() -> bool:
            answer = await self.client.get(f"{self.url('fulfillment')}/fulfillments/{order_id}")
            return answer.status_code == 200 and answer.json()["state"] == state

        await eventually(
            reached, timeout=60, interval=0.2, message=f"saga of {order_id} never reached {state}"
        )

    async def shipment(self, order_id: str) -> str:
        async def created() -> str:
            page = (
                await self.client.get(f"{self.url('shipping')}/shipments", params={"order_id": order_id})
            ).json()
            return str(page["entries"][0]["shipment_id"])

        return await eventually(created, timeout=30, interval=0.2, message=f"no shipment for {order_id}")


async def _execute(system: RunningSystem, database: str, sql: str, *args: object) -> None:
    port = system.cli_env()["BOOKSHELF_PG_PORT"]
    conn = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{port}/{database}")
    try:
        await conn.execute(sql, *args)
    finally:
        await conn.close()


def _audit(system: RunningSystem, *args: str) -> tuple[int, dict[str, Any]]:
    answer = system.cli("audit", "--json", *args)
    assert answer.stdout, answer.stderr
    return answer.returncode, orjson.loads(answer.stdout)


async def test_audit_passes_on_a_healthy_system(
    audited_system: RunningSystem, orders: dict[str, Any]
) -> None:
    code, report = _audit(audited_system)
    assert (code, report["violations"]) == (0, [])
    assert report["checked"]["orders"] == 3
    assert report["checked"]["sagas"] == 3
    shown = audited_system.cli("audit", "--settle-timeout", "0")
    assert shown.returncode == 0
    assert "All invariants hold" in shown.stdout


async def test_planted_stock_drift_is_reported_with_the_book_id(
    audited_system: RunningSystem, orders: dict[str, Any]
) -> None:
    book = uuid.UUID(orders["book"])
    await _execute(
        audited_system, "inventory", "UPDATE stock SET reserved = reserved + 1 WHERE book_id = $1", book
    )
    try:
        code, report = _audit(audited_system, "--settle-timeout", "2")
        assert code == 1
        assert {(v["check"], v["id"]) for v in report["violations"]} == {
            ("reserved-equals-open-lines", orders["book"])
        }
        shown = audited_system.cli("audit", "--settle-timeout", "0")
        assert shown.returncode == 1
        assert orders["book"] in shown.stdout
    finally:
        await _execute(
            audited_system, "inventory", "UPDATE stock SET reserved = reserved - 1 WHERE book_id = $1", book
        )
    assert _audit(audited_system, "--settle-timeout", "0")[0] == 0


async def test_an_order_cancelled_behind_the_sagas_back_is_drift(
    audited_system: RunningSystem, orders: dict[str, Any]
) -> None:
    order = uuid.UUID(orders["waiting"])
    await _execute(
        audited_system, "ordering", "UPDATE orders SET status = 'CANCELLED' WHERE order_id = $1", order
    )
    try:
        code, report = _audit(audited_system, "--settle-timeout", "2")
        assert code == 1
        assert {(v["check"], v["id"]) for v in report["violations"]} == {
            ("reservation-held-for-cancelled-order", orders["waiting"]),
            ("shipment-left-created-for-cancelled-order", orders["waiting"]),
            ("saga-inconsistent-with-order", orders["waiting"]),
        }
    finally:
        await _execute(
            audited_system, "ordering", "UPDATE orders SET status = 'CONFIRMED' WHERE order_id = $1", order
        )


async def test_stock_released_for_a_dispatched_shipment_is_reported(
    audited_system: RunningSystem, orders: dict[str, Any]
) -> None:
    # Units that left with the delivered order's shipment, released as if the cancel had won:
    # conservation cannot see these phantom units, this check does.
    order = uuid.UUID(orders["delivered"])
    sql = "UPDATE reservations SET status = $2 WHERE order_id = $1"
    await _execute(audited_system, "inventory", sql, order, "RELEASED")
    try:
        code, report = _audit(audited_system, "--settle-timeout", "2")
        assert code == 1
        found = {(v["check"], v["id"]) for v in report["violations"]}
        assert ("released-stock-of-dispatched-shipment", orders["delivered"]) in found
    finally:
        await _execute(audited_system, "inventory", sql, order, "COMMITTED")
    assert _audit(audited_system, "--settle-timeout", "0")[0] == 0
