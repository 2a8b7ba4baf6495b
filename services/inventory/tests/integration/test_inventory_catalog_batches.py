"""Catalog events in batches: BookDetailsUpdated runs as a batch handler, BookAdded one by one.

Each test produces its events together into one partition of the module's twin of catalog.books,
so the consumer gets them in one fetch: runs of BookDetailsUpdated go to one handler call (one
executemany), while each BookAdded creates its stock record once and publishes its first level.
"""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from bookshelf_contracts import (
    CATALOG_BOOKS,
    BookAdded,
    BookDetailsUpdated,
    Envelope,
    Message,
    Money,
    key_for,
)
from bookshelf_infra.testing import eventually

from .conftest import RunningInventory

WAIT = 30.0


def added(book_id: uuid.UUID, title: str = "Dune", isbn: str | None = None) -> BookAdded:
    price = Money(amount=Decimal("9.99"), currency="USD")
    return BookAdded(book_id=book_id, title=title, author="Frank Herbert", isbn=isbn, price=price, version=1)


def details(book_id: uuid.UUID, title: str, version: int, isbn: str | None = None) -> BookDetailsUpdated:
    price = Money(amount=Decimal("9.99"), currency="USD")
    return BookDetailsUpdated(
        book_id=book_id, title=title, author="Frank Herbert", isbn=isbn, price=price, version=version
    )


async def send_together(
    svc: RunningInventory, messages: list[Message], ids: dict[int, uuid.UUID] | None = None
) -> list[str]:
    """Produce in order into partition 0 without waiting in between; returns the message ids."""
    futures, sent = [], []
    for i, message in enumerate(messages):
        env = Envelope.wrap(
            message, producer="test", correlation_id=str(uuid.uuid4()), message_id=(ids or {}).get(i)
        )
        sent.append(str(env.message_id))
        futures.append(
            await svc.producer.send(
                svc.topic(CATALOG_BOOKS),
                env.to_json(),
                key=key_for(message).encode(),
                headers=env.kafka_headers(),
                partition=0,
            )
        )
    await asyncio.gather(*futures)
    return sent


async def replica(svc: RunningInventory, book_id: uuid.UUID) -> Any:
    async with svc.components.engine.connect() as conn:
        result = await conn.execute(
            sa.text("SELECT title, isbn, catalog_version FROM catalog_books WHERE book_id = :id"),
            {"id": book_id},
        )
        return result.one_or_none()


async def replica_at(svc: RunningInventory, book_id: uuid.UUID, version: int) -> Any:
    async def check() -> Any:
        row = await replica(svc, book_id)
        return row if row is not None and row.catalog_version == version else None

    return await eventually(check, timeout=WAIT, message=f"catalog_books row of {book_id} at v{version}")


async def test_a_batch_for_one_book_ends_in_the_last_details_with_stock_created_once(
    inventory_running: RunningInventory,
) -> None:
    svc, book = inventory_running, uuid.uuid4()
    await send_together(
        svc,
        [
            added(book, "Dune", "9780441013593"),
            details(book, "Dune II", 2, "9780441172696"),
            added(book, "Dune", "9780441013593"),  # republished BookAdded: no second stock record
            details(book, "Dune III", 3, "9780425077611"),
        ],
    )
    row = await replica_at(svc, book, 3)
    assert (row.title, row.isbn) == ("Dune III", "9780425077611")
    body = (await svc.http.get(f"/inventory/{book}")).json()
    assert (body["title"], body["on_hand"], body["version"]) == ("Dune III", 10, 1)
    async with svc.components.engine.connect() as conn:  # committed with the batch: no relay to wait for
        levels = await conn.scalar(
            sa.text(
                "SELECT count(*) FROM outbox WHERE key = :key"
                " AND convert_from(value, 'UTF8') LIKE '%InventoryLevelChanged%'"
            ),
            {"key": str(book)},
        )
    assert levels == 1


async def test_stale_and_duplicate_details_inside_a_batch_change_nothing(
    inventory_running: RunningInventory,
) -> None:
    svc, book, marker = inventory_running, uuid.uuid4(), uuid.uuid4()
    again = uuid.uuid4()
    await send_together(
        svc,
        [
            details(book, "Newest", 3, "9780441013593"),
            details(book, "Stale", 2, "9780441172696"),  # older, after the newer one
            details(book, "Newest", 3, "9780441013593"),  # redelivery (same message id)
            details(book, "Older still", 1),
            details(marker, "Marker", 1),
        ],
        ids={0: again, 2: again},
    )
    await replica_at(svc, marker, 1)  # behind every event above in the same partition
    row = await replica(svc, book)
    assert (row.title, row.isbn, row.catalog_version) == ("Newest", "9780441013593", 3)


async def test_a_poison_event_in_a_batch_is_dead_lettered_alone(inventory_running: RunningInventory) -> None:
    svc = inventory_running
    first, poison, last = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    # A valid contract PostgreSQL refuses (NUL in text): the batch fails, then this message alone.
    ids = await send_together(
        svc, [details(first, "First", 2), details(poison, "Poison \x00", 2), details(last, "Last", 2)]
    )
    assert (await replica_at(svc, first, 2)).title == "First"
    assert (await replica_at(svc, last, 2)).title == "Last"
    letters = await eventually(lambda: svc.dead_letters(CATALOG_BOOKS, ids[1]), timeout=WAIT)
    assert len(letters) == 1
    # The batch failed, then the message ran alone once: a data error (NUL, SQLSTATE class 22) is
    # dead-lettered at once instead of being retried.
    assert int(letters[0]["dlq.attempts"]) == 1
    assert "0x00" in letters[0]["dlq.error_message"]
    assert await replica(svc, poison) is None
    assert svc.dead_letters(CATALOG_BOOKS, ids[0]) == svc.dead_letters(CATALOG_BOOKS, ids[2]) == []
