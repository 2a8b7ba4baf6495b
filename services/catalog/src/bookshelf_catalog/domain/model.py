"""The Book aggregate: validated state, a version per change, and the events it records.

The aggregate never publishes: it appends contract events to ``events`` and the unit of work hands
them to the outbox in the transaction that stores the book.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from bookshelf_contracts import BookAdded, BookDetailsUpdated, BookPriceUpdated, Event, Genre, Money

from bookshelf_catalog.domain.exceptions import InvalidBook
from bookshelf_catalog.domain.rules import REQUIRED, check_fields

# Fields PATCH may change (the ISBN identifies a book in the catalog and is fixed once given).
MUTABLE_FIELDS = frozenset(
    ("price", "title", "author", "description", "genre", "tags", "page_count", "publication_date", "in_print")
)


@dataclass(eq=False)
class Book:
    """A book of the catalog (docs/domain.md "Catalog: Book"); ``version`` counts its changes from 1."""

    book_id: uuid.UUID
    title: str
    author: str
    price: Money
    isbn: str | None = None
    description: str | None = None
    genre: Genre | None = None
    tags: list[str] = field(default_factory=list)
    page_count: int | None = None
    publication_date: date | None = None
    in_print: bool = True
    version: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None
    events: list[Event] = field(default_factory=list, repr=False)

    @classmethod
    def add(cls, fields: Mapping[str, Any], *, book_id: uuid.UUID | None = None) -> Book:
        """A new book from raw fields (validated; raises InvalidBook); records ``BookAdded``."""
        clean = check_fields(fields, required=REQUIRED)
        now = datetime.now(UTC)
        book = cls(book_id=book_id or uuid.uuid4(), **clean, version=1, created_at=now, updated_at=now)
        book.events.append(BookAdded.model_construct(**book.state()))
        return book

    def update(self, changes: Mapping[str, Any]) -> list[Event]:
        """Apply a partial change; returns the events recorded (none when nothing really changed).

        A new price records ``BookPriceUpdated`` (old and new); any other changed field records
        ``BookDetailsUpdated`` with the full state after the change. Each event bumps the version.
        """
        unknown = sorted(set(changes) - MUTABLE_FIELDS)
        if unknown:
            raise InvalidBook([(name, "cannot be changed") for name in unknown])
        clean = check_fields(changes)
        recorded: list[Event] = []
        new_price = clean.pop("price", None)
        if new_price is not None and new_price != self.price:
            old_price, self.price = self.price, new_price
            self.version += 1
            recorded.append(
                BookPriceUpdated(
                    book_id=self.book_id, old_price=old_price, new_price=new_price, version=self.version
                )
            )
        details = {name: value for name, value in clean.items() if getattr(self, name) != value}
        if details:
            for name, value in details.items():
                setattr(self, name, value)
            self.version += 1
            recorded.append(BookDetailsUpdated.model_construct(**self.state()))
        if recorded:
            self.updated_at = datetime.now(UTC)
        self.events.extend(recorded)
        return recorded

    def state(self) -> dict[str, Any]:
        """The full state as event fields (BookAdded / BookDetailsUpdated)."""
        return {
            "book_id": self.book_id,
            "title": self.title,
            "author": self.author,
            "isbn": self.isbn,
            "price": self.price,
            "description": self.description,
            "genre": self.genre,
            "tags": list(self.tags),
            "page_count": self.page_count,
            "publication_date": self.publication_date,
            "in_print": self.in_print,
            "version": self.version,
        }
