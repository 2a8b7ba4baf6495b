"""One observation of the whole system through its public APIs (read after the system settled)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from tests.faults.load import Shop

Json = dict[str, Any]
OPEN_SAGA = "AWAITING_DISPATCH"  # the one state a settled saga may wait in: for the staff to dispatch


@dataclass
class World:
    """Every order, saga, shipment, stock record, reservation and read-model entry."""

    orders: dict[str, Json] = field(default_factory=dict)
    sagas: dict[str, Json] = field(default_factory=dict)
    shipments: dict[str, list[Json]] = field(default_factory=dict)  # by order id
    stock: dict[str, Json] = field(default_factory=dict)
    books: dict[str, Json] = field(default_factory=dict)  # catalog
    reservations: dict[str, Json | None] = field(default_factory=dict)
    storefront: dict[str, Json] = field(default_factory=dict)
    catalog_view: dict[str, Json] = field(default_factory=dict)
    reports: dict[str, Json] = field(default_factory=dict)
    tracking: dict[str, Json | None] = field(default_factory=dict)


async def _each(shop: Shop, service: str, template: str, ids: list[str]) -> dict[str, Json | None]:
    """GET one resource per id (16 at a time); None for 404."""
    gate = asyncio.Semaphore(16)

    async def one(item: str) -> tuple[str, Json | None]:
        async with gate:
            answer = await shop.call("GET", service, template.format(item), ok=(200, 404))
            return item, (answer.json() if answer.status_code == 200 else None)

    return dict(await asyncio.gather(*(one(i) for i in ids)))


async def observe(shop: Shop, *, per_order: bool = True) -> World:
    """Read everything; ``per_order=False`` skips the per-order reservations and tracking."""
    world = World()
    world.orders = {o["order_id"]: o for o in await shop.pages("ordering", "/orders")}
    world.sagas = {s["order_id"]: s for s in await shop.pages("fulfillment", "/fulfillments")}
    for shipment in await shop.pages("shipping", "/shipments"):
        world.shipments.setdefault(shipment["order_id"], []).append(shipment)
    world.stock = {s["book_id"]: s for s in await shop.pages("inventory", "/inventory")}
    world.books = {b["book_id"]: b for b in await shop.pages("catalog", "/books")}
    if per_order:
        ids = sorted(world.orders)
        world.reservations = await _each(shop, "inventory", "/reservations/{}", ids)
        world.tracking = await _each(shop, "storefront-query", "/tracking/{}", ids)
        world.storefront = {b["book_id"]: b for b in await shop.pages("storefront-query", "/storefront")}
        world.catalog_view = {b["book_id"]: b for b in await shop.pages("storefront-query", "/catalog")}
        world.reports = {b["book_id"]: b for b in await shop.pages("storefront-query", "/reports/books")}
    return world


def open_orders(world: World, order_ids: list[str]) -> list[str]:
    """Orders still moving: not DELIVERED or CANCELLED, and not CONFIRMED with a saga waiting for dispatch."""
    moving = []
    for order_id in order_ids:
        order = world.orders.get(order_id)
        status = order["status"] if order else "MISSING"
        if status in ("DELIVERED", "CANCELLED"):
            continue
        saga = world.sagas.get(order_id, {}).get("state")
        if status == "CONFIRMED" and saga == OPEN_SAGA:
            continue
        moving.append(f"{order_id}: order {status}, saga {saga}")
    return moving


async def outbox_backlogs(shop: Shop) -> dict[str, int]:
    """Unpublished outbox rows per service (read from each service database)."""
    import asyncpg

    backlogs = {}
    for service in ("catalog", "ordering", "inventory", "shipping", "fulfillment"):
        conn = await asyncpg.connect(shop.cluster.dsn(service), timeout=5)
        try:
            backlogs[service] = int(
                await conn.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            )
        finally:
            await conn.close()
    return backlogs
