"""Catalog events, topic ``catalog.books`` keyed by book_id (docs/domain.md "Catalog: Book")."""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar
from uuid import UUID

from pydantic import AfterValidator, Field, StringConstraints

from bookshelf_contracts.base import Event
from bookshelf_contracts.topic_names import CATALOG_BOOKS
from bookshelf_contracts.values import AggregateVersion, Author, Genre, Isbn13, Money, Title


def _positive(price: Money) -> Money:
    if price.amount <= 0:
        raise ValueError(f"a book price must be > 0, got {price}")
    return price


Price = Annotated[Money, AfterValidator(_positive)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]


class _BookState(Event):
    """The full state of a book, shared by BookAdded and BookDetailsUpdated (not a message itself)."""

    book_id: UUID
    title: Title
    author: Author
    isbn: Isbn13 | None = Field(default=None, description="ISBN-13 digits (ISBN-10 is converted)")
    price: Price
    description: Annotated[str, Field(max_length=5000)] | None = None
    genre: Genre | None = None
    tags: Annotated[list[Tag], Field(max_length=20)] = Field(default_factory=list)
    page_count: Annotated[int, Field(ge=1, le=100_000)] | None = None
    publication_date: date | None = None
    in_print: bool = True
    version: AggregateVersion


class BookAdded(_BookState):
    """A book entered the catalog; carries its full state (version 1)."""

    TOPIC: ClassVar[str] = CATALOG_BOOKS


class BookDetailsUpdated(_BookState):
    """A book's details changed; carries the full state after the change."""

    TOPIC: ClassVar[str] = CATALOG_BOOKS


class BookPriceUpdated(Event):
    """A book's price changed from ``old_price`` to ``new_price``.

    VERSION 2. Version 1 carried ``old_amount``/``new_amount`` strings plus one ``currency``
    (see ``upcasters.BookPriceUpdatedV1``); ``parse_message`` upcasts it.
    """

    TOPIC: ClassVar[str] = CATALOG_BOOKS

    VERSION: ClassVar[int] = 2

    book_id: UUID
    old_price: Money
    new_price: Price
    version: AggregateVersion
