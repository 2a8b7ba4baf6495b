"""The projection table and the report/tracking projections over in-memory stores."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from bookshelf_contracts import (
    CATALOG_BOOKS,
    INVENTORY_STOCK,
    ORDERING_ORDERS,
    SHIPPING_SHIPMENTS,
    OrderCancelled,
    OrderConfirmed,
)
from bookshelf_messaging import BatchHandler
from bookshelf_storefront.config import StorefrontSettings
from bookshelf_storefront.domain.sales import OrderSales, SaleLine
from bookshelf_storefront.domain.tracking import Tracking
from bookshelf_storefront.entrypoints.consumers import consumer_plan, live_handlers
from bookshelf_storefront.service_layer.projections import (
    PROJECTIONS,
    project,
    project_batch,
    projections_for,
)

from .conftest import at, order_placed


class MemoryReports:
    """Report store keeping order states and the sales it was asked to add."""

    def __init__(self) -> None:
        self.orders: dict[UUID, OrderSales] = {}
        self.sales: list[SaleLine] = []
        self.batch_locks: list[list[UUID]] = []

    async def upsert_details(self, row: dict[str, Any]) -> None: ...

    async def upsert_price(self, row: dict[str, Any]) -> None: ...

    async def lock_order(self, order_id: UUID, at: datetime) -> OrderSales:
        return self.orders.get(order_id, OrderSales())

    async def lock_orders(self, first_seen: dict[UUID, datetime]) -> dict[UUID, OrderSales]:
        self.batch_locks.append(sorted(first_seen))
        return {k: self.orders.get(k, OrderSales()) for k in first_seen}

    async def save_order(self, order_id: UUID, state: OrderSales, at: datetime) -> None:
        self.orders[order_id] = state

    async def add_sales(self, lines: list[SaleLine], at: datetime) -> None:
        self.sales.extend(lines)


class MemoryTracking:
    def __init__(self) -> None:
        self.rows: dict[UUID, Tracking] = {}
        self.saves = 0
        self.batch_locks: list[list[UUID]] = []

    async def lock(self, order_id: UUID, at: datetime) -> Tracking:
        return self.rows.get(order_id, Tracking())

    async def lock_many(self, first_seen: dict[UUID, datetime]) -> dict[UUID, Tracking]:
        self.batch_locks.append(sorted(first_seen))
        return {k: self.rows.get(k, Tracking()) for k in first_seen}

    async def save(self, order_id: UUID, state: Tracking) -> None:
        self.rows[order_id] = state
        self.saves += 1


class MemoryStores:
    def __init__(self) -> None:
        self.reports = MemoryReports()
        self.tracking = MemoryTracking()
        self.storefront: Any = None
        self.catalog: Any = None
        self.flushes = 0

    async def flush(self) -> None:
        self.flushes += 1


async def test_an_order_lifecycle_adds_then_subtracts_its_lines_once() -> None:
    stores = MemoryStores()
    book, order = uuid4(), uuid4()
    chains = projections_for(["reports", "tracking"])
    events = [
        order_placed(order, [(book, 3, "2.00")]),
        OrderConfirmed(order_id=order, version=2),
        OrderConfirmed(order_id=order, version=2),
        OrderCancelled(order_id=order, reason="changed mind", previous_status="CONFIRMED", version=3),
        OrderCancelled(order_id=order, reason="changed mind", previous_status="CONFIRMED", version=3),
    ]
    for minute, message in enumerate(events):
        await project(chains[message.TYPE], message, at(minute), stores)  # type: ignore[arg-type]
    assert [(s.quantity, str(s.amount)) for s in stores.reports.sales] == [(3, "6.00"), (-3, "-6.00")]
    assert stores.tracking.rows[order].status == "CANCELLED"
    assert stores.tracking.saves == 3  # the repeated events changed nothing
    assert stores.flushes == len(events)


def test_every_read_model_has_projections() -> None:
    assert set(PROJECTIONS) == {"storefront", "catalog", "reports", "tracking"}
    chains = projections_for(["storefront", "catalog", "reports"])
    assert len(chains["BookAdded"]) == 3
    assert len(chains["InventoryLevelChanged"]) == 1


def test_live_consumers_only_handle_what_their_topic_carries() -> None:
    assert set(live_handlers(CATALOG_BOOKS, ["storefront", "catalog", "reports"])) == {
        "BookAdded",
        "BookDetailsUpdated",
        "BookPriceUpdated",
    }
    assert set(live_handlers(INVENTORY_STOCK, ["storefront"])) == {"InventoryLevelChanged"}
    assert set(live_handlers(ORDERING_ORDERS, ["reports", "tracking"])) == {
        "OrderPlaced",
        "OrderConfirmed",
        "OrderCancelled",
        "OrderShipped",
        "OrderDelivered",
    }


def test_every_type_of_a_topic_shares_one_batch_handler() -> None:
    for topic, models in (
        (CATALOG_BOOKS, ["storefront", "catalog", "reports"]),
        (ORDERING_ORDERS, ["reports", "tracking"]),
    ):
        handlers = live_handlers(topic, models)
        assert all(isinstance(h, BatchHandler) for h in handlers.values())
        assert len({id(h) for h in handlers.values()}) == 1  # a run of mixed types is one call


async def test_a_batch_locks_each_order_once_and_ends_like_one_event_at_a_time() -> None:
    book, order, other = uuid4(), uuid4(), uuid4()
    chains = projections_for(["reports", "tracking"])
    events = [
        order_placed(order, [(book, 3, "2.00")]),
        order_placed(other, [(book, 1, "2.00")]),
        OrderConfirmed(order_id=order, version=2),
        OrderCancelled(order_id=order, reason="changed mind", previous_status="CONFIRMED", version=3),
        OrderConfirmed(order_id=order, version=2),
    ]
    batch = [(message, at(minute)) for minute, message in enumerate(events)]
    one_by_one, batched = MemoryStores(), MemoryStores()
    for message, when in batch:
        await project(chains[message.TYPE], message, when, one_by_one)  # type: ignore[arg-type]
    await project_batch(chains, batch, batched)  # type: ignore[arg-type]
    assert batched.reports.batch_locks == batched.tracking.batch_locks == [sorted([order, other])]
    assert batched.reports.orders == one_by_one.reports.orders
    assert batched.reports.sales == one_by_one.reports.sales
    assert batched.tracking.rows == one_by_one.tracking.rows


def test_the_live_consumers_follow_the_read_models_topics() -> None:
    settings = StorefrontSettings()
    assert consumer_plan(settings) == [
        (settings.catalog_group, CATALOG_BOOKS, ("storefront", "catalog", "reports")),
        (settings.inventory_group, INVENTORY_STOCK, ("storefront",)),
        (settings.orders_group, ORDERING_ORDERS, ("reports", "tracking")),
        (settings.shipments_group, SHIPPING_SHIPMENTS, ("tracking",)),
    ]
