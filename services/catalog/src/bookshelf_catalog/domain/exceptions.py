"""Domain errors of the catalog; each names the rule and the value that broke it."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID


class CatalogError(Exception):
    """Base class of every catalog domain error."""


class InvalidBook(CatalogError, ValueError):
    """Book data that breaks a rule of docs/domain.md; ``errors`` holds ``(field, message)`` pairs."""

    def __init__(self, errors: Sequence[tuple[str, str]]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(f"{field}: {message}" for field, message in self.errors))


class BookNotFound(CatalogError, LookupError):
    """No book has this id."""

    def __init__(self, book_id: UUID) -> None:
        super().__init__(f"no book with id {book_id}")
        self.book_id = book_id


class DuplicateIsbn(CatalogError):
    """Another book already has this ISBN."""

    def __init__(self, isbn: str) -> None:
        super().__init__(f"a book with ISBN {isbn} is already in the catalog")
        self.isbn = isbn
        self.errors = [("isbn", f"{isbn} is already in the catalog")]
