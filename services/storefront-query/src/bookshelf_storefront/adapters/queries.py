"""The API's reads, straight from the read-model views (CQRS: no projection code involved).

``GET /storefront`` stays fast at 100,000 books through partial indexes on the visible rows (one
per sort key, lower(author), genre/in_stock/price) and a GIN index over title/author trigrams for
the contains-filters; ``total`` is only counted when the page does not prove it (``known_total``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from bookshelf_storefront.adapters.counting import VisibleTotals
from bookshelf_storefront.adapters.views import book_catalog, grams, indexed_grams
from bookshelf_storefront.adapters.views import storefront_view as sv
from bookshelf_storefront.domain.queries import Sort, StorefrontFilter, known_total, like_pattern, uses_grams

Entry = dict[str, Any]
Where = list[sa.ColumnElement[bool]]

STOREFRONT_SORT_COLUMNS: dict[str, sa.ColumnElement[Any]] = {
    "title": sv.c.title,
    "author": sv.c.author,
    "price": sv.c.price_amount,
    "available": sv.c.available,
    "updated_at": sv.c.updated_at,
}


def money(amount: Decimal | None, currency: str | None) -> dict[str, str] | None:
    """``{"amount": "12.99", "currency": "USD"}``, or None when unknown."""
    if amount is None or currency is None:
        return None
    return {"amount": format(amount, "f"), "currency": currency}


def _contains(columns: list[tuple[str, sa.ColumnElement[str]]], term: str) -> Where:
    """Case-insensitive substring match on any of ``columns``; the trigram index narrows it first."""
    pattern = sa.func.lower(sa.literal(like_pattern(term)))
    where: Where = [sa.or_(*(sa.func.lower(col).like(pattern, escape="\\") for _, col in columns))]
    if uses_grams(term):
        indexed = indexed_grams()
        where.append(sa.or_(*(indexed.op("@>")(grams(prefix, sa.literal(term))) for prefix, _ in columns)))
    return where


def storefront_where(f: StorefrontFilter) -> Where:
    """The WHERE terms of a storefront filter; rows whose book is not known yet are never listed."""
    c = sv.c
    where: Where = [c.details_version > 0]
    if f.author is not None:
        where.append(sa.func.lower(c.author) == sa.func.lower(sa.literal(f.author)))
    if f.author_contains is not None:
        where += _contains([("a", c.author)], f.author_contains)
    if f.q is not None:
        where += _contains([("t", c.title), ("a", c.author)], f.q)
    if f.genre is not None:
        where.append(c.genre == f.genre)
    if f.in_stock is not None:
        where.append(c.in_stock == f.in_stock)
    if f.min_price is not None:
        where.append(c.price_amount >= f.min_price)
    if f.max_price is not None:
        where.append(c.price_amount <= f.max_price)
    return where


def order_by(column: sa.ColumnElement[Any], key: sa.ColumnElement[Any], sort: Sort) -> list[Any]:
    """ORDER BY the sort column, then the key as tie-breaker (stable pages)."""
    # The tie-breaker runs in the same direction, so one (column, id) index serves both directions.
    if sort.descending:
        return [column.desc(), key.desc()]
    return [column.asc(), key.asc()]


def storefront_entry(row: Any) -> Entry:
    """One StorefrontView entry as the API shows it."""
    return {
        "book_id": str(row.book_id),
        "title": row.title,
        "author": row.author,
        "isbn": row.isbn,
        "genre": row.genre,
        "price": money(row.price_amount, row.price_currency),
        "available": row.available,
        "in_stock": row.in_stock,
        "updated_at": row.updated_at,
    }


async def count_rows(session: AsyncSession, table: sa.FromClause, where: Where) -> int:
    """``count(*)`` of the rows of ``table`` matching ``where``."""
    return int(await session.scalar(sa.select(sa.func.count()).select_from(table).where(*where)) or 0)


DEFERRED_JOIN_OFFSET = 100


def page_query(table: sa.Table, where: Where, ordering: list[Any], limit: int, offset: int) -> sa.Select[Any]:
    """The rows of one page. Deep pages first pick the keys alone (an index-only walk over the
    skipped entries) and then fetch just the page's rows, instead of reading every skipped row."""
    if offset < DEFERRED_JOIN_OFFSET:
        return sa.select(table).where(*where).order_by(*ordering).limit(limit).offset(offset)
    key = table.primary_key.columns.values()[0]
    keys = sa.select(key).where(*where).order_by(*ordering).limit(limit).offset(offset).subquery()
    return sa.select(table).join(keys, keys.c[key.name] == key).order_by(*ordering)


async def page_of(
    session: AsyncSession,
    table: sa.Table,
    where: Where,
    ordering: list[Any],
    page: tuple[int, int],
    counter: Callable[[], Awaitable[int]] | None = None,
) -> tuple[list[Any], int]:
    """One page (``(limit, offset)``) and the total: proven by a short page, else ``counter()`` or a count."""
    limit, offset = page
    rows = (await session.execute(page_query(table, where, ordering, limit, offset))).all()
    total = known_total(offset, limit, len(rows))
    if total is None:
        total = await counter() if counter else await count_rows(session, table, where)
    return rows, total


async def storefront_total(
    session: AsyncSession, f: StorefrontFilter, where: Where, totals: VisibleTotals | None
) -> int:
    """The number of matches; no filter (or only in_stock=true) uses the remembered visible total."""
    if totals is not None and f.only_visibility:
        return await totals.total(session)
    if totals is not None and f.only_in_stock:
        out_of_stock = await count_rows(session, sv, storefront_where(StorefrontFilter(in_stock=False)))
        return await totals.total(session) - out_of_stock
    return await count_rows(session, sv, where)


async def storefront_page(
    session: AsyncSession,
    f: StorefrontFilter,
    sort: Sort,
    limit: int,
    offset: int,
    totals: VisibleTotals | None = None,
) -> tuple[list[Entry], int]:
    """A page of StorefrontView entries and the total number of matches."""
    ordering = order_by(STOREFRONT_SORT_COLUMNS[sort.key], sv.c.book_id, sort)
    where = storefront_where(f)
    if f.searches and offset < DEFERRED_JOIN_OFFSET:
        rows, total = await _searched_page(session, where, ordering, limit, offset)
    else:
        rows, total = await page_of(
            session, sv, where, ordering, (limit, offset), lambda: storefront_total(session, f, where, totals)
        )
    return [storefront_entry(row) for row in rows], total


async def _searched_page(
    session: AsyncSession, where: Where, ordering: list[Any], limit: int, offset: int
) -> tuple[list[Any], int]:
    """A contains-search visits every match anyway (trigram bitmap, then sort): count them in the same
    pass (a window count) instead of a second scan; measured about twice as fast at 100,000 books."""
    query = sa.select(sv, sa.func.count().over().label("matches")).where(*where).order_by(*ordering)
    rows = list((await session.execute(query.limit(limit).offset(offset))).all())
    if rows:
        return rows, int(rows[0].matches)
    return rows, 0 if offset == 0 else await count_rows(session, sv, where)


async def storefront_one(session: AsyncSession, book_id: UUID) -> Entry | None:
    """One StorefrontView entry, or None (unknown, or its book not known yet)."""
    query = sa.select(sv).where(sv.c.book_id == book_id, sv.c.details_version > 0)
    row = (await session.execute(query)).one_or_none()
    return None if row is None else storefront_entry(row)


def catalog_entry(row: Any) -> Entry:
    """One BookCatalog entry."""
    return {
        "book_id": str(row.book_id),
        "title": row.title,
        "author": row.author,
        "isbn": row.isbn,
        "price": money(row.price_amount, row.price_currency),
    }


async def catalog_page(session: AsyncSession, limit: int, offset: int) -> tuple[list[Entry], int]:
    """A page of BookCatalog entries by title, and the total."""
    c = book_catalog.c
    ordering = [c.title, c.book_id]
    rows, total = await page_of(session, book_catalog, [c.details_version > 0], ordering, (limit, offset))
    return [catalog_entry(row) for row in rows], total


async def catalog_one(session: AsyncSession, book_id: UUID) -> Entry | None:
    """One BookCatalog entry, or None."""
    c = book_catalog.c
    query = sa.select(book_catalog).where(c.book_id == book_id, c.details_version > 0)
    row = (await session.execute(query)).one_or_none()
    return None if row is None else catalog_entry(row)
