"""Repositories on the caller's session: orders (with row locks for transitions) and the replica."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from bookshelf_contracts import Currency, Money
from sqlalchemy.ext.asyncio import AsyncSession

from bookshelf_ordering.adapters.mapping import (
    address_json,
    history_entries,
    history_json,
    order_from_row,
    select_orders,
)
from bookshelf_ordering.adapters.orm import orders
from bookshelf_ordering.domain.model import Order
from bookshelf_ordering.domain.placement import CatalogEntry, ReplicaUpdate

# Order and lines in ONE statement (a data-modifying CTE): placing an order is the hot path.
_INSERT_ORDER = sa.text(
    "WITH new_order AS ("
    " INSERT INTO orders (order_id, status, customer_name, customer_email, shipping_address, currency,"
    " total_amount, tracking_number, cancellation_reason, history, version, created_at, updated_at,"
    " access_token_hash)"
    " VALUES (CAST(:order_id AS uuid), :status, :customer_name, :customer_email,"
    " CAST(:shipping_address AS jsonb), :currency, :total_amount, :tracking_number,"
    " :cancellation_reason, CAST(:history AS jsonb), :version, :created_at, :updated_at,"
    " :access_token_hash))"
    " INSERT INTO order_lines (order_id, line_no, book_id, title, quantity, unit_amount)"
    " SELECT CAST(:order_id AS uuid), u.line_no, u.book_id, u.title, u.quantity, u.unit_amount"
    " FROM unnest(CAST(:line_nos AS int[]), CAST(:book_ids AS uuid[]), CAST(:titles AS text[]),"
    " CAST(:quantities AS int[]), CAST(:amounts AS numeric[]))"
    " AS u(line_no, book_id, title, quantity, unit_amount)"
)

_SELECT_BOOKS = sa.text(
    "SELECT book_id, title, price_amount, currency FROM catalog_books"
    " WHERE book_id = ANY(CAST(:ids AS uuid[])) AND title IS NOT NULL"
)

# Each part of a replica row moves only forward: a replayed or late event never regresses it.
_UPSERT_BOOK = sa.text(
    "INSERT INTO catalog_books AS b"
    " (book_id, title, title_version, price_amount, currency, price_version, updated_at)"
    " VALUES (CAST(:book_id AS uuid), :title, :title_version, :amount, :currency, :price_version, now())"
    " ON CONFLICT (book_id) DO UPDATE SET"
    " title = CASE WHEN EXCLUDED.title_version > b.title_version THEN EXCLUDED.title ELSE b.title END,"
    " title_version = GREATEST(b.title_version, EXCLUDED.title_version),"
    " price_amount = CASE WHEN EXCLUDED.price_version > b.price_version"
    "  THEN EXCLUDED.price_amount ELSE b.price_amount END,"
    " currency = CASE WHEN EXCLUDED.price_version > b.price_version"
    "  THEN EXCLUDED.currency ELSE b.currency END,"
    " price_version = GREATEST(b.price_version, EXCLUDED.price_version),"
    " updated_at = now()"
    " WHERE EXCLUDED.title_version > b.title_version OR EXCLUDED.price_version > b.price_version"
)


class SqlOrderRepository:
    """Orders in PostgreSQL; remembers the aggregates it handed out so their events can be collected."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.seen: list[Order] = []

    async def add(self, order: Order, *, access_token_hash: str | None = None) -> None:
        """Insert a new order (with the hash of its access token) and its lines (one statement)."""
        total = order.total
        await self.session.execute(
            _INSERT_ORDER,
            {
                "order_id": order.order_id,
                "status": order.status.value,
                "customer_name": order.customer.name,
                "customer_email": order.customer.email,
                "shipping_address": address_json(order.shipping_address),
                "currency": total.currency.value,
                "total_amount": total.amount,
                "tracking_number": order.tracking_number,
                "cancellation_reason": order.cancellation_reason,
                "history": history_json(order.history),
                "version": order.version,
                "created_at": order.created_at,
                "updated_at": order.updated_at,
                "access_token_hash": access_token_hash,
                "line_nos": list(range(1, len(order.lines) + 1)),
                "book_ids": [line.book_id for line in order.lines],
                "titles": [line.title for line in order.lines],
                "quantities": [line.quantity for line in order.lines],
                "amounts": [line.unit_price.amount for line in order.lines],
            },
        )
        self.seen.append(order)

    async def get_for_update(self, order_id: UUID) -> Order | None:
        """The order, row-locked until the transaction ends (concurrent transitions serialize)."""
        query = select_orders().where(orders.c.order_id == order_id).with_for_update(of=orders)
        row = (await self.session.execute(query)).mappings().first()
        if row is None:
            return None
        order = order_from_row(row)
        self.seen.append(order)
        return order

    async def save(self, order: Order) -> None:
        """Write back what a transition changes (status, version, history, tracking, reason)."""
        await self.session.execute(
            sa.update(orders)
            .where(orders.c.order_id == order.order_id)
            .values(
                status=order.status.value,
                version=order.version,
                tracking_number=order.tracking_number,
                cancellation_reason=order.cancellation_reason,
                history=history_entries(order.history),
                updated_at=order.updated_at,
            )
        )


class SqlCatalogReplica:
    """Ordering's copy of catalog titles and prices (``catalog_books``)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_many(self, book_ids: Iterable[UUID]) -> dict[UUID, CatalogEntry]:
        """The known books among ``book_ids`` (one SELECT for all lines of an order)."""
        rows = await self.session.execute(_SELECT_BOOKS, {"ids": list(book_ids)})
        return {
            row.book_id: CatalogEntry(
                row.book_id,
                row.title,
                Money.model_construct(amount=row.price_amount, currency=Currency(row.currency)),
            )
            for row in rows
        }

    async def apply_book(self, book_id: UUID, title: str, price: Money, version: int) -> None:
        """A book's full state at ``version`` (BookAdded, BookDetailsUpdated)."""
        await self.apply_many([ReplicaUpdate(book_id, title, version, price, version)])

    async def apply_price(self, book_id: UUID, price: Money, version: int) -> None:
        """A book's price at ``version`` (BookPriceUpdated); the title stays unknown until it arrives."""
        await self.apply_many([ReplicaUpdate(book_id, None, 0, price, version)])

    async def apply_many(self, updates: Sequence[ReplicaUpdate]) -> None:
        """Several updates, in one executemany (pipelined). The upsert only moves each part of a row
        forward, so updates of one book in any order end in the newest one's values."""
        if not updates:
            return
        params: list[dict[str, Any]] = [
            {
                "book_id": u.book_id,
                "title": u.title,
                "title_version": u.title_version,
                "amount": Decimal(u.price.amount),
                "currency": u.price.currency.value,
                "price_version": u.price_version,
            }
            for u in updates
        ]
        await self.session.execute(_UPSERT_BOOK, params[0] if len(params) == 1 else params)
