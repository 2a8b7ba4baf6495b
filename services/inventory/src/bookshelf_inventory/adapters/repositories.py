"""PostgreSQL repositories of stock records, reservations and the catalog replica.

Hot paths take few round trips whatever the number of lines: one ``SELECT ... FOR UPDATE`` for all
records of a reservation, one ``UPDATE ... FROM unnest(...)`` for all changed levels, and one
statement that inserts a reservation together with its lines. Arrays keep the SQL text constant,
so asyncpg reuses one prepared statement for any size.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import orjson
import sqlalchemy as sa
from bookshelf_contracts import ShortLine
from sqlalchemy.ext.asyncio import AsyncSession

from bookshelf_inventory.domain.reservation import Reservation, ReservationStatus
from bookshelf_inventory.domain.stock import StockRecord

# ORDER BY before FOR UPDATE: PostgreSQL locks rows as the sorted result is read, so every
# transaction takes its locks in book_id order and two reservations can never deadlock each other.
_LOCK_STOCK = sa.text(
    "SELECT book_id, on_hand, reserved, version, initial_stock, restocked_total, committed_total "
    "FROM stock WHERE book_id = ANY(CAST(:ids AS uuid[])) ORDER BY book_id FOR UPDATE"
)
_INSERT_STOCK = sa.text(
    "INSERT INTO stock (book_id, on_hand, reserved, version, initial_stock) "
    "VALUES (:book_id, :on_hand, :reserved, :version, :initial) "
    "ON CONFLICT (book_id) DO NOTHING RETURNING book_id"
)
_SAVE_STOCK = sa.text(
    "UPDATE stock AS s SET on_hand = u.on_hand, reserved = u.reserved, version = u.version, "
    "restocked_total = u.restocked, committed_total = u.committed, updated_at = now() "
    "FROM unnest(CAST(:ids AS uuid[]), CAST(:on_hand AS int[]), CAST(:reserved AS int[]), "
    "CAST(:version AS int[]), CAST(:restocked AS bigint[]), CAST(:committed AS bigint[])) "
    "AS u(book_id, on_hand, reserved, version, restocked, committed) "
    "WHERE s.book_id = u.book_id"
)
# One round trip: the reservation and its lines, or nothing at all when the order already has one
# (the lines CTE joins the RETURNING of the first, which is empty on conflict).
_INSERT_RESERVATION = sa.text(
    "WITH r AS ("
    " INSERT INTO reservations (order_id, status, short_lines)"
    " VALUES (:order_id, :status, CAST(:short_lines AS jsonb))"
    " ON CONFLICT (order_id) DO NOTHING RETURNING order_id"
    "), l AS ("
    " INSERT INTO reservation_lines (order_id, book_id, quantity)"
    " SELECT r.order_id, u.book_id, u.quantity"
    " FROM r, unnest(CAST(:books AS uuid[]), CAST(:quantities AS int[])) AS u(book_id, quantity)"
    ") SELECT count(*) FROM r"
)
_LOCK_RESERVATION = sa.text(
    "SELECT r.status, r.short_lines, l.book_id, l.quantity "
    "FROM reservations AS r LEFT JOIN reservation_lines AS l ON l.order_id = r.order_id "
    "WHERE r.order_id = :order_id ORDER BY l.book_id FOR UPDATE OF r"
)
_SAVE_RESERVATION = sa.text(
    "UPDATE reservations SET status = :status, updated_at = now() WHERE order_id = :order_id"
)
_UPSERT_BOOK = sa.text(
    "INSERT INTO catalog_books (book_id, title, isbn, catalog_version) "
    "VALUES (:book_id, :title, :isbn, :version) "
    "ON CONFLICT (book_id) DO UPDATE SET title = excluded.title, isbn = excluded.isbn, "
    "catalog_version = excluded.catalog_version "
    "WHERE catalog_books.catalog_version < excluded.catalog_version"
)
_BOOK_FOR_ISBN = sa.text("SELECT book_id FROM catalog_books WHERE isbn = :isbn ORDER BY book_id LIMIT 1")

# Consumer runners handle a whole partition batch in one transaction, so a batch accumulates row
# locks message after message in no global order; two such batches (two partitions) could deadlock
# even though each message locks in book_id order. Batches that lock stock rows therefore take this
# transaction-level advisory lock first: they run one at a time (a batch of 500 reservations takes
# well under a second), while a single-row HTTP restock, which can never close a cycle, skips it.
STOCK_WRITERS_LOCK = 0x696E76  # "inv"
_TAKE_WRITERS_LOCK = sa.text("SELECT pg_advisory_xact_lock(:key)")
_WRITERS_LOCK_HELD = "bookshelf_inventory.stock_writers_lock"


async def take_stock_writers_lock(session: AsyncSession) -> None:
    """Serialise multi-message stock writers; a no-op when this transaction already holds the lock."""
    transaction = session.get_transaction()
    if transaction is not None and session.info.get(_WRITERS_LOCK_HELD) is transaction:
        return
    await session.execute(_TAKE_WRITERS_LOCK, {"key": STOCK_WRITERS_LOCK})
    session.info[_WRITERS_LOCK_HELD] = transaction


class SqlStockRepository:
    """Stock records in table ``stock``."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.seen: list[StockRecord] = []

    async def lock(self, book_ids: Sequence[UUID]) -> dict[UUID, StockRecord]:
        """The records of these books (missing ones left out), row-locked in book_id order."""
        result = await self.session.execute(_LOCK_STOCK, {"ids": list(book_ids)})
        records = {
            row.book_id: StockRecord(
                book_id=row.book_id,
                on_hand=row.on_hand,
                reserved=row.reserved,
                version=row.version,
                initial=row.initial_stock,
                restocked=row.restocked_total,
                committed=row.committed_total,
            )
            for row in result
        }
        self.seen.extend(records.values())
        return records

    async def add(self, record: StockRecord) -> bool:
        """Store a new record; False (nothing stored, its events dropped) when one exists."""
        params = {
            "book_id": record.book_id,
            "on_hand": record.on_hand,
            "reserved": record.reserved,
            "version": record.version,
            "initial": record.initial,
        }
        inserted = (await self.session.execute(_INSERT_STOCK, params)).first() is not None
        if inserted:
            self.seen.append(record)
        else:
            record.events.clear()
        return inserted

    async def save(self, records: Sequence[StockRecord]) -> None:
        """Write the levels of locked records with one statement."""
        if not records:
            return
        params: dict[str, Any] = {
            "ids": [r.book_id for r in records],
            "on_hand": [r.on_hand for r in records],
            "reserved": [r.reserved for r in records],
            "version": [r.version for r in records],
            "restocked": [r.restocked for r in records],
            "committed": [r.committed for r in records],
        }
        await self.session.execute(_SAVE_STOCK, params)


class SqlReservationRepository:
    """Reservations in tables ``reservations`` and ``reservation_lines``."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.seen: list[Reservation] = []

    async def lock(self, order_id: UUID) -> Reservation | None:
        """The order's reservation with its lines, row-locked; None when there is none."""
        rows = (await self.session.execute(_LOCK_RESERVATION, {"order_id": order_id})).all()
        if not rows:
            return None
        short = [ShortLine.model_validate(item) for item in rows[0].short_lines or ()]
        lines = {row.book_id: row.quantity for row in rows if row.book_id is not None}
        reservation = Reservation(order_id, ReservationStatus(rows[0].status), lines, short)
        self.seen.append(reservation)
        return reservation

    async def add(self, reservation: Reservation) -> bool:
        """Store a new reservation with its lines; False (nothing stored) when the order has one."""
        short = [line.model_dump(mode="json") for line in reservation.short_lines]
        params = {
            "order_id": reservation.order_id,
            "status": reservation.status.value,
            "short_lines": orjson.dumps(short).decode() if short else None,
            "books": list(reservation.lines),
            "quantities": list(reservation.lines.values()),
        }
        inserted = bool((await self.session.execute(_INSERT_RESERVATION, params)).scalar_one())
        if inserted:
            self.seen.append(reservation)
        return inserted

    async def save(self, reservation: Reservation) -> None:
        """Write a locked reservation's new status."""
        params = {"order_id": reservation.order_id, "status": reservation.status.value}
        await self.session.execute(_SAVE_RESERVATION, params)


class SqlBookReplica:
    """Catalog facts in table ``catalog_books``."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def upsert(self, book_id: UUID, title: str, isbn: str | None, version: int) -> None:
        """Keep the newest catalog state of a book (older versions are ignored)."""
        params = {"book_id": book_id, "title": title, "isbn": isbn, "version": version}
        await self.session.execute(_UPSERT_BOOK, params)

    async def upsert_many(self, books: Sequence[tuple[UUID, str, str | None, int]]) -> None:
        """``upsert`` for several ``(book_id, title, isbn, version)`` in one executemany; the version
        guard makes the order irrelevant (the newest wins, stale and repeated ones change nothing)."""
        params = [{"book_id": b, "title": t, "isbn": i, "version": v} for b, t, i, v in books]
        if params:
            await self.session.execute(_UPSERT_BOOK, params)

    async def book_id_for_isbn(self, isbn: str) -> UUID | None:
        """The book with this ISBN-13, if the catalog announced one."""
        value = (await self.session.execute(_BOOK_FOR_ISBN, {"isbn": isbn})).scalar_one_or_none()
        return value if isinstance(value, UUID) or value is None else UUID(str(value))
