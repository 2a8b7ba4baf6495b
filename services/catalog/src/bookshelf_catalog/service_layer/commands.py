"""Commands the catalog handles (imperative names; plain frozen dataclasses)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4


@dataclass(frozen=True)
class Command:
    """Base class of catalog commands."""


@dataclass(frozen=True)
class AddBook(Command):
    """Add one book (staff, POST /books); ``fields`` are the book fields of docs/domain.md."""

    fields: Mapping[str, Any]


@dataclass(frozen=True)
class UpdateBook(Command):
    """Change some fields of a book (PATCH /books/{id})."""

    book_id: UUID
    changes: Mapping[str, Any]


@dataclass(frozen=True)
class ImportBooks(Command):
    """Add many books at once; ``records`` are raw rows (CSV strings or JSON objects)."""

    records: Sequence[Mapping[str, Any]]
    import_id: UUID = field(default_factory=uuid4)


@dataclass(frozen=True)
class ReceiveSupplierPayload(Command):
    """Store a verified supplier webhook body and queue it for translation.

    ``delivery_id`` (the verified signature) names a payload that carries no id of its own, so a
    replay of the same delivery inside the timestamp window is recognised as well.
    """

    payload: Mapping[str, Any]
    received_at: datetime
    delivery_id: str | None = None


@dataclass(frozen=True)
class AddSuppliedBook(Command):
    """A supplier offers a new book; a known ISBN makes this a no-op."""

    fields: Mapping[str, Any]
