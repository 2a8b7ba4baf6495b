"""HTTP request and response bodies (types and documentation; the domain enforces the rules)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from bookshelf_contracts import Genre, Money
from pydantic import BaseModel, ConfigDict, Field


class BookCreate(BaseModel):
    """A new book (docs/domain.md "Catalog: Book")."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(description="1-200 characters, trimmed")
    author: str = Field(description="1-150 characters, trimmed")
    isbn: str | None = Field(default=None, description="ISBN-10 or ISBN-13 with a valid check digit")
    price: Money = Field(description='amount > 0, e.g. {"amount": "12.99", "currency": "USD"}')
    description: str | None = Field(default=None, description="at most 5000 characters")
    genre: Genre | None = None
    tags: list[str] = Field(default_factory=list, description="at most 20 tags of 1-50 characters")
    page_count: int | None = Field(default=None, description="1-100000")
    publication_date: date | None = None
    in_print: bool = True

    def fields(self) -> dict[str, Any]:
        """The book fields for the domain."""
        return {name: getattr(self, name) for name in type(self).model_fields}


class BookPatch(BaseModel):
    """Any of the changeable fields of a book; ``null`` clears an optional field."""

    model_config = ConfigDict(extra="forbid")

    price: Money | None = None
    title: str | None = None
    author: str | None = None
    description: str | None = None
    genre: Genre | None = None
    tags: list[str] | None = None
    page_count: int | None = None
    publication_date: date | None = None
    in_print: bool | None = None

    def changes(self) -> dict[str, Any]:
        """Only the fields the client sent."""
        return {name: getattr(self, name) for name in self.model_fields_set}


class BookOut(BaseModel):
    """A book as the API answers it."""

    book_id: UUID
    title: str
    author: str
    isbn: str | None
    price: Money
    description: str | None
    genre: Genre | None
    tags: list[str]
    page_count: int | None
    publication_date: date | None
    in_print: bool
    version: int
    created_at: datetime
    updated_at: datetime


class BookPage(BaseModel):
    """A page of books."""

    entries: list[BookOut]
    total: int
    limit: int
    offset: int
    page: int
    total_pages: int
    has_next: bool
    has_prev: bool


class RowError(BaseModel):
    """One reason a row was rejected."""

    field: str
    message: str


class RejectedRow(BaseModel):
    """A rejected import row (1-based, counting data rows only) and why."""

    row: int
    errors: list[RowError]


class ImportAccepted(BaseModel):
    """The outcome of an import: accepted rows travel the bulk lane as BookAdded."""

    import_id: UUID
    accepted: int
    rejected: list[RejectedRow]


class WebhookAccepted(BaseModel):
    """The id of the message that carries the stored payload to ``supplier.book-supply``."""

    message_id: UUID
