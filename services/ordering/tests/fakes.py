"""In-memory repositories for ordering's unit tests (no I/O). Each subclasses the port it stands in
for; ``repository_contract.py`` runs the same checks against them and the SQL adapters."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from bookshelf_contracts import Money
from bookshelf_ordering.domain.model import Order
from bookshelf_ordering.domain.placement import CatalogEntry, ReplicaUpdate
from bookshelf_ordering.service_layer.unit_of_work import CatalogReplica, OrderRepository


class FakeOrders(OrderRepository):
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, Order] = {}
        self.token_hashes: dict[uuid.UUID, str | None] = {}
        self.seen: list[Order] = []

    async def add(self, order: Order, *, access_token_hash: str | None = None) -> None:
        self.rows[order.order_id] = order
        self.token_hashes[order.order_id] = access_token_hash
        self.seen.append(order)

    async def get_for_update(self, order_id: uuid.UUID) -> Order | None:
        order = self.rows.get(order_id)
        if order is not None:
            self.seen.append(order)
        return order

    async def save(self, order: Order) -> None:
        self.rows[order.order_id] = order


class FakeReplica(CatalogReplica):
    """Titles and prices by book; each part of a row only moves forward by version, as in the table."""

    def __init__(self, entries: Iterable[CatalogEntry] = ()) -> None:
        # book id -> (title, title version, price, price version)
        self.rows: dict[uuid.UUID, tuple[str | None, int, Money, int]] = {
            entry.book_id: (entry.title, 1, entry.price, 1) for entry in entries
        }

    async def get_many(self, book_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, CatalogEntry]:
        found = {book_id: self.rows[book_id] for book_id in book_ids if book_id in self.rows}
        return {b: CatalogEntry(b, title, price) for b, (title, _, price, _) in found.items() if title}

    async def apply_book(self, book_id: uuid.UUID, title: str, price: Money, version: int) -> None:
        await self.apply_many([ReplicaUpdate(book_id, title, version, price, version)])

    async def apply_price(self, book_id: uuid.UUID, price: Money, version: int) -> None:
        await self.apply_many([ReplicaUpdate(book_id, None, 0, price, version)])

    async def apply_many(self, updates: Sequence[ReplicaUpdate]) -> None:
        for u in updates:
            title, title_version, price, price_version = self.rows.get(u.book_id, (None, 0, u.price, 0))
            if u.title_version > title_version:
                title, title_version = u.title, u.title_version
            if u.price_version > price_version:
                price, price_version = u.price, u.price_version
            self.rows[u.book_id] = (title, title_version, price, price_version)
