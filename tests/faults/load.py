"""The load the scenarios run: books, orders (some cancelled at once, some undeliverable), staff
restocks and signed supplier payloads, and the staff moves that take confirmed orders to DELIVERED.

Every write is retried through outages with the same ``Idempotency-Key`` (or supplier payload id),
so a retry never counts twice; the ledger records what the system accepted, which is what the
invariant checks compare against. Every 5xx other than 503 is recorded: an honest service answers
503 while a dependency is down, never a 500.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from tests.faults.cluster import Cluster

ADMIN = {"Authorization": "Bearer dev-admin-token"}
SUPPLIER_SECRET = b"dev-supplier-secret"
UNDELIVERABLE = "JP"  # valid ISO code, not in SHIPPING_COUNTRIES
RETRYABLE = (httpx.TransportError,)


class GaveUp(AssertionError):
    """A request did not succeed before its deadline."""


@dataclass
class PlacedOrder:
    """An order the system accepted (201), with what the load asked of it."""

    order_id: str
    tag: str
    lines: dict[str, int]
    country: str
    customer_cancel: bool = False


@dataclass
class Ledger:
    """What the system accepted, across every scenario of the session."""

    books: list[str] = field(default_factory=list)
    restocked: Counter[str] = field(default_factory=Counter)
    orders: dict[str, PlacedOrder] = field(default_factory=dict)
    server_errors: list[str] = field(default_factory=list)  # 5xx other than 503
    unavailable: int = 0  # 503 answers (honest, retried)
    # Keys (or message ids) of records injected to be dead-lettered -> the groups that must do it
    # (empty: any group).
    dlq_expected: dict[str, frozenset[str]] = field(default_factory=dict)

    def tagged(self, tag: str) -> list[PlacedOrder]:
        return [o for o in self.orders.values() if o.tag == tag]


class Shop:
    """HTTP client of the system under test, with retries through outages."""

    def __init__(self, cluster: Cluster, client: httpx.AsyncClient, ledger: Ledger) -> None:
        self.cluster = cluster
        self.client = client
        self.ledger = ledger

    async def call(
        self,
        method: str,
        service: str,
        path: str,
        *,
        ok: tuple[int, ...] = (200, 201, 202),
        within: float = 180.0,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send until the answer is in ``ok``; retries 503, 5xx (recorded) and connection errors.

        As staff: the harness reads every order, shipment, reservation and saga, and places orders
        without the per-client rate limit (a given ``Authorization`` header wins).
        """
        kwargs["headers"] = ADMIN | (kwargs.get("headers") or {})
        deadline = time.monotonic() + within
        last: object = None
        while time.monotonic() < deadline:
            try:
                answer = await self.client.request(method, f"{self.cluster.url(service)}{path}", **kwargs)
            except RETRYABLE as exc:
                last = exc
            else:
                if answer.status_code in ok:
                    return answer
                last = f"{answer.status_code} {answer.text[:300]}"
                if answer.status_code == 503:
                    self.ledger.unavailable += 1
                elif answer.status_code >= 500:
                    self.ledger.server_errors.append(f"{method} {service}{path}: {last}")
                elif answer.status_code not in (404, 422):  # 404/422: a replica not caught up yet
                    raise AssertionError(f"{method} {service}{path}: {last}")
            await asyncio.sleep(0.2)  # retry pacing of a client, not a wait for async work
        raise GaveUp(f"{method} {service}{path} never answered {ok}: {last}")

    async def get(self, service: str, path: str, **params: Any) -> Any:
        return (await self.call("GET", service, path, params=params or None)).json()

    async def pages(self, service: str, path: str, **params: Any) -> list[dict[str, Any]]:
        """Every entry of a paged list endpoint."""
        entries: list[dict[str, Any]] = []
        while True:
            page = await self.get(service, path, limit=100, offset=len(entries), **params)
            entries += page["entries"]
            if not page["has_next"] or not page["entries"]:
                return entries

    # -- writes ----------------------------------------------------------------------------------

    async def add_book(self, title: str, price: str = "9.99") -> str:
        body = {"title": title, "author": "Fault Author", "price": {"amount": price, "currency": "USD"}}
        answer = await self.call("POST", "catalog", "/books", json=body, headers=ADMIN, ok=(201,))
        book_id: str = answer.json()["book_id"]
        self.ledger.books.append(book_id)
        return book_id

    async def restock(self, book_id: str, quantity: int) -> None:
        headers = ADMIN | {"Idempotency-Key": str(uuid.uuid4())}
        path = f"/inventory/{book_id}/restock"
        await self.call("POST", "inventory", path, json={"quantity": quantity}, headers=headers, ok=(200,))
        self.ledger.restocked[book_id] += quantity

    async def supplier(self, payload: dict[str, Any]) -> httpx.Response:
        """POST a signed BookSupply webhook (retried with the same payload id)."""
        body = orjson.dumps(payload)

        async def send() -> httpx.Response:
            stamp = str(int(time.time()))
            digest = hmac.new(SUPPLIER_SECRET, stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
            headers = {
                "Content-Type": "application/json",
                "X-BookSupply-Timestamp": stamp,
                "X-BookSupply-Signature": f"sha256={digest}",
            }
            return await self.call("POST", "catalog", "/webhooks/book-supply", content=body, headers=headers)

        return await send()

    async def supplier_restock(self, book_id: str, quantity: int) -> None:
        payload = {
            "event_type": "stock_replenished",
            "payload_id": str(uuid.uuid4()),
            "book_id": book_id,
            "quantity": quantity,
        }
        await self.supplier(payload)
        self.ledger.restocked[book_id] += quantity

    async def place_order(self, tag: str, lines: dict[str, int], country: str = "US") -> PlacedOrder:
        body = {
            "customer": {"name": "Fault Customer", "email": f"{tag}@faults.example.com"},
            "shipping_address": {
                "street": "1 Main St",
                "city": "Springfield",
                "zip_code": "1",
                "country": country,
            },
            "items": [{"book_id": b, "quantity": q} for b, q in lines.items()],
        }
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        answer = await self.call("POST", "ordering", "/orders", json=body, headers=headers, ok=(201,))
        order = PlacedOrder(answer.json()["order_id"], tag, lines, country)
        self.ledger.orders[order.order_id] = order
        return order

    async def cancel(self, order: PlacedOrder) -> None:
        order.customer_cancel = True
        # 202: a request the saga decides (it ends CANCELLED, or SHIPPED when the goods had left).
        await self.call("POST", "ordering", f"/orders/{order.order_id}/cancel", ok=(202, 409))

    # -- load ------------------------------------------------------------------------------------

    async def drive(self, tag: str, orders: int, *, seed: int, concurrency: int = 6) -> list[PlacedOrder]:
        """Place ``orders`` orders (about 10% cancelled at once, 5% undeliverable), with a staff
        restock every 10th and a supplier restock every 15th order."""
        rng = random.Random(seed)
        plans = [self._plan(rng) for _ in range(orders)]
        gate = asyncio.Semaphore(concurrency)

        async def one(index: int, plan: tuple[dict[str, int], str, bool]) -> PlacedOrder:
            async with gate:
                lines, country, cancel = plan
                order = await self.place_order(tag, lines, country)
                if cancel:
                    await self.cancel(order)
                if index % 10 == 9:
                    await self.restock(rng.choice(self.ledger.books), 5)
                if index % 15 == 14:
                    await self.supplier_restock(rng.choice(self.ledger.books), 3)
                return order

        return list(await asyncio.gather(*(one(i, p) for i, p in enumerate(plans))))

    def _plan(self, rng: random.Random) -> tuple[dict[str, int], str, bool]:
        books = rng.sample(self.ledger.books, rng.choice((1, 1, 2)))
        lines = {b: rng.randint(1, 3) for b in books}
        country = UNDELIVERABLE if rng.random() < 0.05 else "US"
        return lines, country, rng.random() < 0.1

    async def fulfil(self, orders: list[PlacedOrder], *, seed: int, share: float = 0.5) -> int:
        """Dispatch and deliver the shipments of about ``share`` of the CONFIRMED orders; returns how many."""
        rng = random.Random(seed)
        confirmed = []
        for order in orders:
            status = (await self.get("ordering", f"/orders/{order.order_id}"))["status"]
            # An order cancelled at once may still be CONFIRMED while the saga decides: not dispatched.
            if status == "CONFIRMED" and rng.random() < share and not order.customer_cancel:
                confirmed.append(order)
        gate = asyncio.Semaphore(4)

        async def move(order: PlacedOrder) -> None:
            async with gate:
                page = await self.get("shipping", "/shipments", order_id=order.order_id)
                if not page["entries"]:
                    return  # the checks report a CONFIRMED order without its shipment
                shipment = page["entries"][0]["shipment_id"]
                for action in ("dispatch", "deliver"):
                    path = f"/shipments/{shipment}/{action}"
                    await self.call("POST", "shipping", path, headers=ADMIN, ok=(200, 409))

        await asyncio.gather(*(move(o) for o in confirmed))
        return len(confirmed)
