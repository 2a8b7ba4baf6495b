"""Read side (CQRS): books straight from the table, no unit of work or locking involved."""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bookshelf_catalog.adapters.orm import books
from bookshelf_catalog.adapters.repository import book_from_row
from bookshelf_catalog.domain.model import Book


class BookQueries:
    """Queries behind GET /books and GET /books/{id}."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = session_factory

    async def get(self, book_id: UUID) -> Book | None:
        """One book, or None."""
        async with self._sessions() as session:
            row = (await session.execute(sa.select(books).where(books.c.book_id == book_id))).first()
        return None if row is None else book_from_row(row)

    async def page(self, *, limit: int, offset: int) -> tuple[list[Book], int]:
        """Newest books first: ``(entries, total)``."""
        async with self._sessions() as session:
            total = (await session.execute(sa.select(sa.func.count()).select_from(books))).scalar_one()
            rows = await session.execute(
                sa.select(books)
                .order_by(books.c.created_at.desc(), books.c.book_id)
                .limit(limit)
                .offset(offset)
            )
            return [book_from_row(row) for row in rows], int(total)
