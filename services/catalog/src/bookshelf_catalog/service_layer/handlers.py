"""Command handlers: small async functions on an open unit of work, registered in COMMAND_HANDLERS.

Handlers change aggregates through repositories and never commit: the message bus (HTTP) or the
consumer runner (Kafka) owns the transaction, so an idempotency key or an inbox row lands in it too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

from bookshelf_contracts import SupplierPayloadReceived

from bookshelf_catalog.domain.exceptions import BookNotFound, DuplicateIsbn, InvalidBook
from bookshelf_catalog.domain.model import Book
from bookshelf_catalog.service_layer import commands
from bookshelf_catalog.service_layer.importing import record_fields
from bookshelf_catalog.service_layer.supplier import delivery_payload_id, event_type_of, payload_id_of
from bookshelf_catalog.service_layer.unit_of_work import UnitOfWork

IMPORT_BATCH = 5_000


async def add_book(command: commands.AddBook, uow: UnitOfWork) -> Book:
    """Add a book; raises InvalidBook (422) or DuplicateIsbn (409)."""
    book = Book.add(command.fields)
    await uow.books.add(book)
    return book


async def update_book(command: commands.UpdateBook, uow: UnitOfWork) -> Book:
    """Change fields of a book (price -> BookPriceUpdated, others -> BookDetailsUpdated)."""
    book = await uow.books.get_for_update(command.book_id)
    if book is None:
        raise BookNotFound(command.book_id)
    if book.update(command.changes):
        await uow.books.save(book)
    return book


@dataclass
class ImportResult:
    """What an import accepted and which rows it rejected (1-based row numbers, with reasons)."""

    import_id: UUID
    accepted: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def reject(self, row: int, errors: list[tuple[str, str]]) -> None:
        """Record a rejected row with its ``(field, message)`` errors."""
        self.rejected.append({"row": row, "errors": [{"field": f, "message": m} for f, m in errors]})


async def import_books(command: commands.ImportBooks, uow: UnitOfWork) -> ImportResult:
    """Validate every row, store the good ones in batches and publish them on the bulk lane."""
    uow.lane = "bulk"
    result = ImportResult(import_id=command.import_id)
    first_row_of: dict[str, int] = {}
    records = list(enumerate(command.records, start=1))
    for start in range(0, len(records), IMPORT_BATCH):
        candidates: list[tuple[int, Book]] = []
        for row, record in records[start : start + IMPORT_BATCH]:
            try:
                book = Book.add(record_fields(record))
            except InvalidBook as exc:
                result.reject(row, exc.errors)
                continue
            if book.isbn is not None:
                if book.isbn in first_row_of:
                    result.reject(row, [("isbn", f"{book.isbn} repeats row {first_row_of[book.isbn]}")])
                    continue
                first_row_of[book.isbn] = row
            candidates.append((row, book))
        await _store_batch(candidates, uow, result)
    result.rejected.sort(key=lambda entry: entry["row"])
    return result


async def _store_batch(candidates: list[tuple[int, Book]], uow: UnitOfWork, result: ImportResult) -> None:
    taken = await uow.books.existing_isbns([b.isbn for _, b in candidates if b.isbn is not None])
    fresh: list[tuple[int, Book]] = []
    for row, book in candidates:
        if book.isbn in taken:
            result.reject(row, [("isbn", f"{book.isbn} is already in the catalog")])
        else:
            fresh.append((row, book))
    stored = {book.book_id for book in await uow.books.add_many([book for _, book in fresh])}
    for row, book in fresh:
        if book.book_id not in stored:  # taken by a concurrent request between our check and insert
            result.reject(row, [("isbn", f"{book.isbn} is already in the catalog")])
    result.accepted += len(stored)


async def receive_supplier_payload(command: commands.ReceiveSupplierPayload, uow: UnitOfWork) -> UUID:
    """Store a supplier payload and queue SupplierPayloadReceived; a repeated id answers the first message id."""
    payload_id = payload_id_of(command.payload) or delivery_payload_id(command.delivery_id) or uuid4()
    event_type = event_type_of(command.payload)
    existing = await uow.supplier_payloads.store(payload_id, event_type, command.payload, command.received_at)
    if existing is not None:
        return existing
    message_id = await uow.publish(
        SupplierPayloadReceived(
            payload_id=payload_id,
            event_type=event_type,
            payload=dict(command.payload),
            received_at=command.received_at,
        )
    )
    await uow.supplier_payloads.set_message_id(payload_id, message_id)
    return message_id


async def add_supplied_book(command: commands.AddSuppliedBook, uow: UnitOfWork) -> Book | None:
    """Add a book offered by the supplier; a known ISBN is a no-op (None)."""
    book = Book.add(command.fields)
    if book.isbn is not None and await uow.books.existing_isbns([book.isbn]):
        return None
    try:
        await uow.books.add(book)
    except DuplicateIsbn:
        return None
    return book


Handler = Callable[[Any, UnitOfWork], Awaitable[Any]]

COMMAND_HANDLERS: dict[type[commands.Command], Handler] = {
    commands.AddBook: add_book,
    commands.UpdateBook: update_book,
    commands.ImportBooks: import_books,
    commands.ReceiveSupplierPayload: receive_supplier_payload,
    commands.AddSuppliedBook: add_supplied_book,
}
