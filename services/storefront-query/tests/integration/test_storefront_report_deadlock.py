"""A catalog batch and an order batch touching the same BookReport rows never deadlock (issue 16,
item 7b), on real PostgreSQL with the service's own batch handlers.

The order batch adds its sales in book id order. The catalog batch sent one statement per upsert
shape, each in book order, but one after the other: details of A and C, then the price of B, so its
locks went A, C, B. An order batch holding B and waiting for C then met a catalog batch holding C and
waiting for B: "deadlock detected", and one batch ran again (seen under load in the fault suite).

A third transaction holds C so that both batches are certain to queue on it in the order that
closes the cycle; without the fix PostgreSQL aborts one of them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import UUID, uuid4

import sqlalchemy as sa
from bookshelf_contracts import (
    CATALOG_BOOKS,
    ORDERING_ORDERS,
    BookDetailsUpdated,
    BookPriceUpdated,
    Envelope,
    Message,
    OrderConfirmed,
)
from bookshelf_contracts.testing import usd
from bookshelf_infra.testing import eventually
from bookshelf_messaging import BatchHandler
from bookshelf_storefront.entrypoints.consumers import live_handlers
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from .conftest import StorefrontIT, book_added
from .test_storefront_reports_tracking import placed

AT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
CATALOG = live_handlers(CATALOG_BOOKS, ("storefront", "catalog", "reports"))["BookPriceUpdated"]
ORDERS = live_handlers(ORDERING_ORDERS, ("reports", "tracking"))["OrderPlaced"]


def _batch(messages: Sequence[Message]) -> list[tuple[Message, Envelope]]:
    return [(m, Envelope.wrap(m, producer="it", correlation_id="c", occurred_at=AT)) for m in messages]


async def _waits_for_a_lock(engine: AsyncEngine, pid: int) -> bool:
    async with engine.connect() as conn:
        query = sa.text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid")
        return (await conn.execute(query, {"pid": pid})).scalar_one_or_none() == "Lock"


async def test_catalog_and_order_batches_lock_report_rows_in_one_order(storefront_it: StorefrontIT) -> None:
    engine = storefront_it.components.engine
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    a, b, c = sorted((uuid4() for _ in range(3)), key=str)
    async with sessions() as session, session.begin():
        await CATALOG.fn(
            _batch([book_added(book_id, title="Deadlock", version=1) for book_id in (a, b, c)]), session
        )

    pids: dict[str, int] = {}

    async def run(name: str, handler: BatchHandler, messages: Sequence[Message]) -> None:
        async with sessions() as session, session.begin():
            pids[name] = (await session.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one()
            await handler.fn(_batch(messages), session)

    catalog_batch = [
        BookDetailsUpdated(book_id=a, title="A2", author="An Author", price=usd("10.00"), version=2),
        BookDetailsUpdated(book_id=c, title="C2", author="An Author", price=usd("10.00"), version=2),
        BookPriceUpdated(book_id=b, old_price=usd("10.00"), new_price=usd("12.00"), version=2),
    ]
    order_id = uuid4()
    order_batch = [
        placed(order_id, [(b, 1, "10.00"), (c, 2, "10.00")]),
        OrderConfirmed(order_id=order_id, version=2),
    ]

    async with sessions() as gate, gate.begin():
        await gate.execute(sa.text("SELECT 1 FROM book_report WHERE book_id = :c FOR UPDATE"), {"c": c})
        catalog = asyncio.create_task(run("catalog", CATALOG, catalog_batch))
        await eventually(lambda: "catalog" in pids and _waits_for_a_lock(engine, pids["catalog"]), timeout=10)
        orders = asyncio.create_task(run("orders", ORDERS, order_batch))
        await eventually(lambda: "orders" in pids and _waits_for_a_lock(engine, pids["orders"]), timeout=10)
    outcomes = await asyncio.wait_for(asyncio.gather(catalog, orders, return_exceptions=True), timeout=30)

    assert outcomes == [None, None], f"a batch failed: {outcomes!r}"
    rows = await _report_rows(engine, [a, b, c])
    assert rows[a] == ("A2", "10.00", 0)
    assert rows[b] == ("Deadlock", "12.00", 1)
    assert rows[c] == ("C2", "10.00", 2)


async def _report_rows(engine: AsyncEngine, books: list[UUID]) -> dict[UUID, tuple[str, str, int]]:
    async with engine.connect() as conn:
        result = await conn.execute(
            sa.text(
                "SELECT book_id, title, price_amount, units_sold FROM book_report WHERE book_id = ANY(:ids)"
            ),
            {"ids": books},
        )
        return {row.book_id: (row.title, str(row.price_amount), row.units_sold) for row in result}
