"""In-memory repositories for inventory's unit tests (no I/O). Each subclasses the port it stands in
for; ``repository_contract.py`` runs the same checks against them and the SQL adapters."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from bookshelf_inventory.domain.reservation import Reservation
from bookshelf_inventory.domain.stock import StockRecord
from bookshelf_inventory.service_layer.unit_of_work import BookReplica, ReservationRepository, StockRepository

_STOCK_FIELDS = ("book_id", "on_hand", "reserved", "version", "initial", "restocked", "committed")


class FakeStockRepository(StockRepository):
    """Rows as dicts; every lock hands out fresh objects, like a database would."""

    def __init__(self) -> None:
        self.rows: dict[UUID, dict[str, Any]] = {}
        self.seen: list[StockRecord] = []

    async def lock(self, book_ids: Sequence[UUID]) -> dict[UUID, StockRecord]:
        records = {b: StockRecord(**self.rows[b]) for b in sorted(book_ids) if b in self.rows}
        self.seen.extend(records.values())
        return records

    async def add(self, record: StockRecord) -> bool:
        if record.book_id in self.rows:
            record.events.clear()
            return False
        self.rows[record.book_id] = {f: getattr(record, f) for f in _STOCK_FIELDS}
        self.seen.append(record)
        return True

    async def save(self, records: Sequence[StockRecord]) -> None:
        for record in records:
            self.rows[record.book_id] = {f: getattr(record, f) for f in _STOCK_FIELDS}


class FakeReservationRepository(ReservationRepository):
    def __init__(self) -> None:
        self.rows: dict[UUID, Reservation] = {}
        self.seen: list[Reservation] = []

    async def lock(self, order_id: UUID) -> Reservation | None:
        stored = self.rows.get(order_id)
        if stored is None:
            return None
        copy = dataclasses.replace(
            stored, lines=dict(stored.lines), short_lines=list(stored.short_lines), events=[]
        )
        self.seen.append(copy)
        return copy

    async def add(self, reservation: Reservation) -> bool:
        if reservation.order_id in self.rows:
            return False
        self.rows[reservation.order_id] = dataclasses.replace(reservation, events=[])
        self.seen.append(reservation)
        return True

    async def save(self, reservation: Reservation) -> None:
        self.rows[reservation.order_id] = dataclasses.replace(reservation, events=[])


class FakeBookReplica(BookReplica):
    def __init__(self) -> None:
        self.books: dict[UUID, tuple[str, str | None, int]] = {}

    async def upsert(self, book_id: UUID, title: str, isbn: str | None, version: int) -> None:
        current = self.books.get(book_id)
        if current is None or current[2] < version:
            self.books[book_id] = (title, isbn, version)

    async def upsert_many(self, books: Sequence[tuple[UUID, str, str | None, int]]) -> None:
        for book in books:
            await self.upsert(*book)

    async def book_id_for_isbn(self, isbn: str) -> UUID | None:
        return next((b for b, (_, i, _) in self.books.items() if i == isbn), None)
