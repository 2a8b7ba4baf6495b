"""The JSON representation of a book in HTTP answers (one function for every route)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bookshelf_catalog.domain.model import Book


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def book_json(book: Book) -> dict[str, Any]:
    """A book as the API answers it (money amount as a string, times ISO-8601 UTC)."""
    return {
        "book_id": str(book.book_id),
        "title": book.title,
        "author": book.author,
        "isbn": book.isbn,
        "price": {"amount": format(book.price.amount, "f"), "currency": book.price.currency.value},
        "description": book.description,
        "genre": book.genre.value if book.genre else None,
        "tags": list(book.tags),
        "page_count": book.page_count,
        "publication_date": book.publication_date.isoformat() if book.publication_date else None,
        "in_print": book.in_print,
        "version": book.version,
        "created_at": _iso(book.created_at),
        "updated_at": _iso(book.updated_at),
    }
