"""Read-side queries (no locks, no unit of work): one order, or a filtered page of orders."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from bookshelf_ordering.adapters.mapping import order_from_row, select_orders
from bookshelf_ordering.adapters.orm import orders
from bookshelf_ordering.domain.model import Order, OrderStatus


async def get_order(session: AsyncSession, order_id: UUID) -> Order | None:
    """The order with this id, or None."""
    row = (await session.execute(select_orders().where(orders.c.order_id == order_id))).mappings().first()
    return None if row is None else order_from_row(row)


async def access_token_hash(session: AsyncSession, order_id: UUID) -> str | None:
    """The stored hash of the order's access token (None for an unknown order or one without)."""
    value = await session.scalar(sa.select(orders.c.access_token_hash).where(orders.c.order_id == order_id))
    return None if value is None else str(value)


def _filters(customer_email: str | None, status: OrderStatus | None) -> list[Any]:
    conditions: list[Any] = []
    if customer_email:
        # Matches the ix_orders_email_created expression index; e-mail domains are case-insensitive
        # and people type local parts in any case too.
        conditions.append(sa.func.lower(orders.c.customer_email) == customer_email.strip().lower())
    if status is not None:
        conditions.append(orders.c.status == status.value)
    return conditions


async def list_orders(
    session: AsyncSession,
    *,
    customer_email: str | None = None,
    status: OrderStatus | None = None,
    limit: int = 20,
    offset: int = 0,
) -> tuple[list[Order], int]:
    """A page of orders, newest first, and the number of orders matching the filters."""
    conditions = _filters(customer_email, status)
    page = (
        select_orders()
        .where(*conditions)
        .order_by(orders.c.created_at.desc(), orders.c.order_id)
        .limit(limit)
        .offset(offset)
    )
    rows = (await session.execute(page)).mappings().all()
    total = await session.scalar(sa.select(sa.func.count()).select_from(orders).where(*conditions))
    return [order_from_row(row) for row in rows], int(total or 0)
