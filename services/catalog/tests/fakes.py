"""In-memory repositories for handler unit tests (no I/O); ``repository_contract.py`` runs the same
checks against them and the SQL adapters, so they keep behaving like the database."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from bookshelf_catalog.domain.model import Book
from bookshelf_catalog.service_layer.repositories import BookRepository, SupplierPayloadRepository


class FakeBookRepository(BookRepository):
    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[UUID, Book] = {}

    async def existing_isbns(self, isbns: Collection[str]) -> set[str]:
        taken = {b.isbn for b in self.rows.values()}
        return {i for i in isbns if i in taken}

    async def _add(self, book: Book) -> bool:
        return book.book_id in await self._add_many([book])

    async def _add_many(self, books: Sequence[Book]) -> set[UUID]:
        taken = {b.isbn for b in self.rows.values() if b.isbn}
        stored: set[UUID] = set()
        for book in books:
            if book.isbn is None or book.isbn not in taken:
                self.rows[book.book_id] = book
                taken.add(book.isbn)
                stored.add(book.book_id)
        return stored

    async def _get_for_update(self, book_id: UUID) -> Book | None:
        return self.rows.get(book_id)

    async def _save(self, book: Book) -> None:
        self.rows[book.book_id] = book


class FakeSupplierPayloads(SupplierPayloadRepository):
    def __init__(self) -> None:
        self.rows: dict[UUID, dict[str, Any]] = {}

    async def store(
        self, payload_id: UUID, event_type: str, payload: Mapping[str, Any], received_at: datetime
    ) -> UUID | None:
        if payload_id in self.rows:
            message_id: UUID = self.rows[payload_id]["message_id"]
            return message_id
        self.rows[payload_id] = {"event_type": event_type, "payload": dict(payload), "message_id": None}
        return None

    async def set_message_id(self, payload_id: UUID, message_id: UUID) -> None:
        self.rows[payload_id]["message_id"] = message_id
