"""What projections need from storage: one store per read model (SQL ones in adapters/writes*.py)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol
from uuid import UUID

from bookshelf_storefront.domain.rows import Row
from bookshelf_storefront.domain.sales import OrderSales, SaleLine
from bookshelf_storefront.domain.tracking import Tracking


class BookStore(Protocol):
    """A per-book read model applying catalog values by version (storefront, catalog)."""

    async def upsert_details(self, row: Row) -> None:
        """Apply a full book state unless a newer one is already there."""

    async def upsert_price(self, row: Row) -> None:
        """Apply a price unless a newer one is already there."""


class StorefrontStore(BookStore, Protocol):
    """StorefrontView: catalog values plus availability."""

    async def upsert_stock(self, row: Row) -> None:
        """Apply an availability unless a newer one is already there."""


class ReportStore(BookStore, Protocol):
    """BookReport plus the orders it counts."""

    async def lock_orders(self, first_seen: Mapping[UUID, datetime]) -> dict[UUID, OrderSales]:
        """Several orders' sales states, locked together (``first_seen``: order -> first event time)."""

    async def lock_order(self, order_id: UUID, at: datetime) -> OrderSales:
        """The order's sales state, locked until the transaction ends (created empty if new)."""

    async def save_order(self, order_id: UUID, state: OrderSales, at: datetime) -> None:
        """Store the order's sales state."""

    async def add_sales(self, lines: list[SaleLine], at: datetime) -> None:
        """Add (or, with negative lines, subtract) units and revenue per book."""


class TrackingStore(Protocol):
    """OrderTracking rows."""

    async def lock_many(self, first_seen: Mapping[UUID, datetime]) -> dict[UUID, Tracking]:
        """Several orders' tracking rows, locked together (``first_seen``: order -> first event time)."""

    async def lock(self, order_id: UUID, at: datetime) -> Tracking:
        """The order's tracking row, locked until the transaction ends (created empty if new)."""

    async def save(self, order_id: UUID, state: Tracking) -> None:
        """Store the order's tracking row."""


class Stores(Protocol):
    """Every read model's store, bound to one transaction and one set of tables."""

    @property
    def storefront(self) -> StorefrontStore: ...

    @property
    def catalog(self) -> BookStore: ...

    @property
    def reports(self) -> ReportStore: ...

    @property
    def tracking(self) -> TrackingStore: ...

    async def flush(self) -> None:
        """Write what the stores deferred for the current event (at the end of each event)."""
