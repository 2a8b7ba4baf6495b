"""Reservations racing on real PostgreSQL: no oversell, all-or-nothing, no deadlocks, exact release.

Handlers run concurrently through separate sessions and transactions (one unit of work each), not
through Kafka, so the races are real row-lock races.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from bookshelf_contracts import BookAdded, CommitStock, Envelope, Money, ReleaseStock, ReserveStock, StockLine
from bookshelf_inventory.adapters import queries
from bookshelf_inventory.adapters.unit_of_work import transaction
from bookshelf_inventory.domain.reservation import ReservationStatus
from bookshelf_inventory.service_layer import handlers
from bookshelf_messaging import Outbox, create_engine, create_session_factory
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

OUTBOX = Outbox(service="inventory")
Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture(scope="module")
async def sessions(inventory_db_url: str) -> AsyncIterator[Sessions]:
    # 40 connections: every one of 40 concurrent reservations gets its own transaction at once.
    engine = create_engine(inventory_db_url, pool_size=20)
    yield create_session_factory(engine)
    await engine.dispose()


async def _book(sessions: Sessions, copies: int) -> uuid.UUID:
    book_id = uuid.uuid4()
    price = Money(amount=Decimal("5.00"), currency="USD")
    event = BookAdded(book_id=book_id, title=f"Race {book_id}", author="A", price=price, version=1)
    async with transaction(sessions, OUTBOX) as uow:
        await handlers.add_inventory(event, uow, initial_stock=copies)
    return book_id


async def _reserve(
    sessions: Sessions, *lines: tuple[uuid.UUID, int], order_id: uuid.UUID | None = None
) -> Any:
    command = ReserveStock(
        order_id=order_id or uuid.uuid4(), lines=[StockLine(book_id=b, quantity=q) for b, q in lines]
    )
    async with transaction(sessions, OUTBOX) as uow:
        reservation = await handlers.reserve_stock(command, uow)
    return reservation.status


async def _level(sessions: Sessions, book_id: uuid.UUID) -> dict[str, Any]:
    async with sessions() as session:
        row = await queries.inventory_of(session, book_id)
    assert row is not None
    return row


async def _outbox(sessions: Sessions, key: uuid.UUID) -> list[Envelope]:
    async with sessions() as session:
        rows = await session.execute(
            sa.text("SELECT value FROM outbox WHERE key = :k ORDER BY id"), {"k": str(key)}
        )
        return [Envelope.from_json(value) for (value,) in rows]


async def _no_drift(sessions: Sessions) -> None:
    async with sessions() as session:
        assert await queries.conservation_drift(session) == []


async def test_40_concurrent_reservations_of_1_copy_against_10_available(sessions: Sessions) -> None:
    book_id = await _book(sessions, 10)
    statuses = await asyncio.gather(*(_reserve(sessions, (book_id, 1)) for _ in range(40)))
    assert Counter(statuses) == {ReservationStatus.RESERVED: 10, ReservationStatus.FAILED: 30}
    level = await _level(sessions, book_id)
    assert (level["on_hand"], level["reserved"], level["available"], level["version"]) == (10, 10, 0, 11)
    levels = [e.data for e in await _outbox(sessions, book_id) if e.type == "InventoryLevelChanged"]
    # One level per change, versions 1..11 without gaps or repeats, available never below 0.
    assert [d["version"] for d in levels] == list(range(1, 12))
    assert sorted(d["available"] for d in levels) == list(range(11))
    await _no_drift(sessions)


async def test_multi_line_reservation_is_all_or_nothing_under_races(sessions: Sessions) -> None:
    a, b = await _book(sessions, 5), await _book(sessions, 1)
    # Both want the single copy of b: exactly one gets both lines, the other gets nothing.
    statuses = await asyncio.gather(_reserve(sessions, (a, 2), (b, 1)), _reserve(sessions, (b, 1), (a, 2)))
    assert sorted(statuses) == [ReservationStatus.FAILED, ReservationStatus.RESERVED]
    assert await _reserve(sessions, (a, 1), (b, 1)) is ReservationStatus.FAILED
    assert ((await _level(sessions, a))["reserved"], (await _level(sessions, b))["reserved"]) == (2, 1)
    await _no_drift(sessions)


async def test_opposite_line_orders_never_deadlock(sessions: Sessions) -> None:
    a, b = await _book(sessions, 20), await _book(sessions, 20)
    reservations = [
        _reserve(sessions, (a, 1), (b, 1)) if i % 2 else _reserve(sessions, (b, 1), (a, 1)) for i in range(30)
    ]
    # A deadlock would surface as asyncpg's DeadlockDetectedError from gather.
    statuses = await asyncio.wait_for(asyncio.gather(*reservations), timeout=60)
    assert Counter(statuses) == {ReservationStatus.RESERVED: 20, ReservationStatus.FAILED: 10}
    assert (await _level(sessions, a))["available"] == (await _level(sessions, b))["available"] == 0
    await _no_drift(sessions)


async def test_concurrent_deliveries_of_one_order_reserve_once(sessions: Sessions) -> None:
    book_id = await _book(sessions, 10)
    order_id = uuid.uuid4()
    statuses = await asyncio.gather(*(_reserve(sessions, (book_id, 3), order_id=order_id) for _ in range(8)))
    assert set(statuses) == {ReservationStatus.RESERVED}
    assert (await _level(sessions, book_id))["reserved"] == 3
    answers = [e.type for e in await _outbox(sessions, order_id)]
    assert answers == ["StockReserved"] * 8
    await _no_drift(sessions)


async def _release(sessions: Sessions, order_id: uuid.UUID) -> None:
    async with transaction(sessions, OUTBOX) as uow:
        await handlers.release_stock(ReleaseStock(order_id=order_id), uow)


async def test_concurrent_releases_return_the_stock_once(sessions: Sessions) -> None:
    book_id = await _book(sessions, 10)
    order_id = uuid.uuid4()
    await _reserve(sessions, (book_id, 4), order_id=order_id)
    await asyncio.gather(*(_release(sessions, order_id) for _ in range(6)))
    level = await _level(sessions, book_id)
    assert (level["reserved"], level["available"], level["version"]) == (0, 10, 3)
    await _no_drift(sessions)


async def test_commit_then_conservation_holds(sessions: Sessions) -> None:
    book_id = await _book(sessions, 10)
    order_id = uuid.uuid4()
    await _reserve(sessions, (book_id, 4), order_id=order_id)
    async with transaction(sessions, OUTBOX) as uow:
        await handlers.restock(book_id, 5, uow)
    for _ in range(2):
        async with transaction(sessions, OUTBOX) as uow:
            await handlers.commit_stock(CommitStock(order_id=order_id), uow)
    level = await _level(sessions, book_id)
    assert (level["on_hand"], level["reserved"], level["available"]) == (11, 0, 11)
    await _no_drift(sessions)


async def test_database_refuses_negative_availability(sessions: Sessions) -> None:
    book_id = await _book(sessions, 1)
    with pytest.raises(sa.exc.IntegrityError, match="ck_stock_available_not_negative"):
        async with sessions() as session, session.begin():
            await session.execute(sa.text("UPDATE stock SET reserved = 2 WHERE book_id = :b"), {"b": book_id})
