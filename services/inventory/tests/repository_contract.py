"""The contract of inventory's repository ports, one abstract test class per port (docs/style.md, "Tests"):
run against the fakes in tests/unit and the SQL adapters in tests/integration. ``store()`` opens one
transaction and yields its repositories; what one transaction stored, the next one reads."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import NamedTuple

import pytest
from bookshelf_contracts import ShortLine
from bookshelf_inventory.domain.reservation import Reservation, ReservationStatus
from bookshelf_inventory.domain.stock import StockRecord
from bookshelf_inventory.service_layer.unit_of_work import BookReplica, ReservationRepository, StockRepository


class Repositories(NamedTuple):
    stock: StockRepository
    reservations: ReservationRepository
    books: BookReplica


Store = Callable[[], AbstractAsyncContextManager[Repositories]]


def levels(record: StockRecord) -> tuple[object, ...]:
    """Everything a repository stores of a stock record."""
    r = record
    return (r.book_id, r.on_hand, r.reserved, r.version, r.initial, r.restocked, r.committed)


def kept(reservation: Reservation) -> tuple[object, ...]:
    """Everything a repository stores of a reservation."""
    return (reservation.order_id, reservation.status, reservation.lines, reservation.short_lines)


class StockRepositoryContract:
    """The StockRepository port."""

    @pytest.fixture
    def store(self) -> Store:
        raise NotImplementedError

    async def test_what_one_transaction_adds_the_next_locks(self, store: Store) -> None:
        record = StockRecord.create(uuid.uuid4(), 7)
        async with store() as repos:
            assert await repos.stock.add(record) is True
        async with store() as repos:
            found = await repos.stock.lock([record.book_id, uuid.uuid4()])
        assert list(found) == [record.book_id]  # missing books are left out
        assert levels(found[record.book_id]) == levels(record)
        assert found[record.book_id].events == []

    async def test_a_second_record_of_a_book_is_refused_and_its_events_dropped(self, store: Store) -> None:
        book_id = uuid.uuid4()
        async with store() as repos:
            await repos.stock.add(StockRecord.create(book_id, 7))
        again = StockRecord.create(book_id, 99)
        async with store() as repos:
            assert await repos.stock.add(again) is False
            assert again.events == []
            assert repos.stock.seen == []
        async with store() as repos:
            assert (await repos.stock.lock([book_id]))[book_id].on_hand == 7

    async def test_lock_hands_records_out_in_book_id_order(self, store: Store) -> None:
        ids = [uuid.uuid4() for _ in range(4)]
        async with store() as repos:
            for book_id in ids:
                await repos.stock.add(StockRecord.create(book_id, 1))
        async with store() as repos:
            found = await repos.stock.lock(list(reversed(ids)))
            assert list(found) == sorted(ids)
            assert repos.stock.seen == [found[b] for b in sorted(ids)]

    async def test_save_stores_the_changed_levels(self, store: Store) -> None:
        record = StockRecord.create(uuid.uuid4(), 5)
        async with store() as repos:
            await repos.stock.add(record)
        async with store() as repos:
            locked = (await repos.stock.lock([record.book_id]))[record.book_id]
            locked.restock(3)
            locked.reserve(2)
            locked.commit(1)
            await repos.stock.save([locked])
        async with store() as repos:
            again = (await repos.stock.lock([record.book_id]))[record.book_id]
        assert levels(again) == levels(locked)


class ReservationRepositoryContract:
    """The ReservationRepository port."""

    @pytest.fixture
    def store(self) -> Store:
        raise NotImplementedError

    async def test_what_one_transaction_adds_the_next_locks(self, store: Store) -> None:
        book = uuid.uuid4()
        placed = Reservation(uuid.uuid4(), ReservationStatus.RESERVED, {book: 2, uuid.uuid4(): 1})
        failed = Reservation(
            uuid.uuid4(), ReservationStatus.FAILED, {}, [ShortLine(book_id=book, requested=5, available=1)]
        )
        async with store() as repos:
            assert await repos.reservations.add(placed) is True
            assert await repos.reservations.add(failed) is True
            assert repos.reservations.seen == [placed, failed]
        async with store() as repos:
            found = [await repos.reservations.lock(r.order_id) for r in (placed, failed)]
            assert await repos.reservations.lock(uuid.uuid4()) is None
        assert [kept(r) for r in found if r is not None] == [kept(placed), kept(failed)]

    async def test_an_order_has_one_reservation_and_save_stores_its_status(self, store: Store) -> None:
        order_id = uuid.uuid4()
        async with store() as repos:
            await repos.reservations.add(Reservation(order_id, ReservationStatus.RESERVED, {uuid.uuid4(): 1}))
        async with store() as repos:
            assert await repos.reservations.add(Reservation(order_id, ReservationStatus.FAILED)) is False
            locked = await repos.reservations.lock(order_id)
            assert locked is not None
            locked.status = ReservationStatus.RELEASED
            await repos.reservations.save(locked)
        async with store() as repos:
            again = await repos.reservations.lock(order_id)
        assert again is not None
        assert kept(again) == kept(locked)


class BookReplicaContract:
    """The BookReplica port: the newest catalog version of a book wins."""

    @pytest.fixture
    def store(self) -> Store:
        raise NotImplementedError

    async def test_the_newest_version_wins_and_the_isbn_finds_the_book(self, store: Store) -> None:
        book_id = uuid.uuid4()
        isbn = "978" + str(uuid.uuid4().int)[:10]
        async with store() as repos:
            await repos.books.upsert_many([(book_id, "Dune", isbn, 2), (book_id, "Old", isbn, 1)])
            await repos.books.upsert(book_id, "Older", isbn, 1)
        async with store() as repos:
            assert await repos.books.book_id_for_isbn(isbn) == book_id
            assert await repos.books.book_id_for_isbn("9780000000000") is None


class InventoryRepositoriesContract(
    StockRepositoryContract, ReservationRepositoryContract, BookReplicaContract
):
    """Every port, for one implementation; subclasses named ``Test...`` provide ``store``."""
