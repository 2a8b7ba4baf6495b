"""Books in PostgreSQL: one ``INSERT ... SELECT FROM unnest(...)`` per batch, whatever its size."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any
from uuid import UUID

import orjson
import sqlalchemy as sa
from bookshelf_contracts import Currency, Genre, Money
from sqlalchemy.ext.asyncio import AsyncSession

from bookshelf_catalog.adapters.orm import books
from bookshelf_catalog.domain.model import Book
from bookshelf_catalog.service_layer.repositories import BookRepository

# Arrays instead of a VALUES list: one prepared plan for any batch size and no 32,767-parameter cap.
# Conflicting ISBNs (taken by another transaction meanwhile) are skipped and reported by RETURNING.
_INSERT_SQL = sa.text(
    "INSERT INTO books (book_id, title, author, isbn, price_amount, price_currency, description, genre,"
    " tags, page_count, publication_date, in_print, version, created_at, updated_at) "
    "SELECT i, t, a, s, p, c, d, g, CAST(tg AS jsonb), pc, pd, ip, v, ca, ua FROM unnest("
    "CAST(:ids AS uuid[]), CAST(:titles AS text[]), CAST(:authors AS text[]), CAST(:isbns AS text[]),"
    " CAST(:amounts AS numeric[]), CAST(:currencies AS text[]), CAST(:descriptions AS text[]),"
    " CAST(:genres AS text[]), CAST(:tags AS text[]), CAST(:pages AS integer[]), CAST(:dates AS date[]),"
    " CAST(:in_print AS boolean[]), CAST(:versions AS integer[]), CAST(:created AS timestamptz[]),"
    " CAST(:updated AS timestamptz[])"
    ") AS u(i, t, a, s, p, c, d, g, tg, pc, pd, ip, v, ca, ua) "
    "ON CONFLICT (isbn) DO NOTHING RETURNING book_id"
)
_EXISTING_SQL = sa.text("SELECT isbn FROM books WHERE isbn = ANY(CAST(:isbns AS text[]))")
INSERT_BATCH = 5_000


def _columns(batch: Sequence[Book]) -> dict[str, list[Any]]:
    return {
        "ids": [b.book_id for b in batch],
        "titles": [b.title for b in batch],
        "authors": [b.author for b in batch],
        "isbns": [b.isbn for b in batch],
        "amounts": [b.price.amount for b in batch],
        "currencies": [b.price.currency.value for b in batch],
        "descriptions": [b.description for b in batch],
        "genres": [b.genre.value if b.genre else None for b in batch],
        "tags": [orjson.dumps(b.tags).decode() for b in batch],
        "pages": [b.page_count for b in batch],
        "dates": [b.publication_date for b in batch],
        "in_print": [b.in_print for b in batch],
        "versions": [b.version for b in batch],
        "created": [b.created_at for b in batch],
        "updated": [b.updated_at for b in batch],
    }


def book_from_row(row: Any) -> Book:
    """A Book aggregate from a ``books`` row."""
    return Book(
        book_id=row.book_id,
        title=row.title,
        author=row.author,
        isbn=row.isbn,
        price=Money(amount=row.price_amount, currency=Currency(row.price_currency)),
        description=row.description,
        genre=Genre(row.genre) if row.genre else None,
        tags=list(row.tags or []),
        page_count=row.page_count,
        publication_date=row.publication_date,
        in_print=row.in_print,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class SqlBookRepository(BookRepository):
    """``BookRepository`` on the ``books`` table, inside the unit of work's session."""

    def __init__(self, session: AsyncSession) -> None:
        super().__init__()
        self.session = session

    async def existing_isbns(self, isbns: Collection[str]) -> set[str]:
        """Which of ``isbns`` are already in the catalog."""
        if not isbns:
            return set()
        result = await self.session.execute(_EXISTING_SQL, {"isbns": list(isbns)})
        return {row[0] for row in result}

    async def _add(self, book: Book) -> bool:
        return book.book_id in await self._add_many([book])

    async def _add_many(self, batch: Sequence[Book]) -> set[UUID]:
        stored: set[UUID] = set()
        for start in range(0, len(batch), INSERT_BATCH):
            result = await self.session.execute(_INSERT_SQL, _columns(batch[start : start + INSERT_BATCH]))
            stored.update(row[0] for row in result)
        return stored

    async def _get_for_update(self, book_id: UUID) -> Book | None:
        result = await self.session.execute(
            sa.select(books).where(books.c.book_id == book_id).with_for_update()
        )
        row = result.first()
        return None if row is None else book_from_row(row)

    async def _save(self, book: Book) -> None:
        await self.session.execute(
            sa.update(books)
            .where(books.c.book_id == book.book_id)
            .values(
                title=book.title,
                author=book.author,
                price_amount=book.price.amount,
                price_currency=book.price.currency.value,
                description=book.description,
                genre=book.genre.value if book.genre else None,
                tags=list(book.tags),
                page_count=book.page_count,
                publication_date=book.publication_date,
                in_print=book.in_print,
                version=book.version,
                updated_at=book.updated_at or sa.func.now(),
            )
        )
