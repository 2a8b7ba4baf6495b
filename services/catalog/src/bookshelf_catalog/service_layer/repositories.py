"""Ports the handlers use: book and supplier-payload repositories (implemented in adapters)."""

from __future__ import annotations

import abc
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from bookshelf_catalog.domain.exceptions import DuplicateIsbn
from bookshelf_catalog.domain.model import Book


class BookRepository(abc.ABC):
    """Books by id; tracks every aggregate it hands out or stores so their events can be collected."""

    def __init__(self) -> None:
        self.seen: list[Book] = []

    async def add(self, book: Book) -> None:
        """Store a new book; raises DuplicateIsbn when its ISBN is taken."""
        if not await self._add(book):
            raise DuplicateIsbn(book.isbn or "")
        self.seen.append(book)

    async def add_many(self, books: Sequence[Book]) -> list[Book]:
        """Store new books in bulk; returns those stored (ISBNs taken meanwhile are skipped)."""
        stored_ids = await self._add_many(books)
        stored = [book for book in books if book.book_id in stored_ids]
        self.seen.extend(stored)
        return stored

    async def get_for_update(self, book_id: UUID) -> Book | None:
        """The book, locked until the transaction ends (concurrent changes queue up), or None."""
        book = await self._get_for_update(book_id)
        if book is not None:
            self.seen.append(book)
        return book

    async def save(self, book: Book) -> None:
        """Store the changed state of a book obtained from ``get_for_update``."""
        await self._save(book)

    @abc.abstractmethod
    async def existing_isbns(self, isbns: Collection[str]) -> set[str]:
        """Which of ``isbns`` are already in the catalog."""

    @abc.abstractmethod
    async def _add(self, book: Book) -> bool: ...

    @abc.abstractmethod
    async def _add_many(self, books: Sequence[Book]) -> set[UUID]: ...

    @abc.abstractmethod
    async def _get_for_update(self, book_id: UUID) -> Book | None: ...

    @abc.abstractmethod
    async def _save(self, book: Book) -> None: ...


class SupplierPayloadRepository(abc.ABC):
    """Supplier webhook bodies, stored before they are translated."""

    @abc.abstractmethod
    async def store(
        self, payload_id: UUID, event_type: str, payload: Mapping[str, Any], received_at: datetime
    ) -> UUID | None:
        """Store a new payload (None), or return the message id of the first one with this id."""

    @abc.abstractmethod
    async def set_message_id(self, payload_id: UUID, message_id: UUID) -> None:
        """Remember the id of the message that carries the payload to the supplier topic."""
