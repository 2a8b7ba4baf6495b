"""docs/domain.md "Inventory": reservations are all-or-nothing, released and committed exactly once."""

from __future__ import annotations

import uuid

import pytest
from bookshelf_contracts import (
    ShortLine,
    StockCommitted,
    StockLine,
    StockReleased,
    StockReservationFailed,
    StockReserved,
)
from bookshelf_inventory.domain.exceptions import CannotCommit
from bookshelf_inventory.domain.reservation import Reservation, ReservationStatus, merge_lines
from bookshelf_inventory.domain.stock import StockRecord


def _stock(*levels: int) -> dict[uuid.UUID, StockRecord]:
    records = [StockRecord.create(uuid.uuid4(), level) for level in levels]
    for record in records:
        record.events.clear()
    return {r.book_id: r for r in records}


def test_merge_lines_sums_the_same_book_and_sorts_by_book_id() -> None:
    a, b = sorted([uuid.uuid4(), uuid.uuid4()])
    lines = [
        StockLine(book_id=b, quantity=1),
        StockLine(book_id=a, quantity=2),
        StockLine(book_id=b, quantity=3),
    ]
    assert list(merge_lines(lines).items()) == [(a, 2), (b, 4)]


def test_place_reserves_every_line() -> None:
    stock = _stock(5, 5)
    a, b = stock
    order_id = uuid.uuid4()
    reservation = Reservation.place(order_id, {a: 2, b: 5}, stock)
    assert reservation.status is ReservationStatus.RESERVED
    assert (stock[a].reserved, stock[b].reserved, stock[b].available) == (2, 5, 0)
    assert reservation.events == [
        StockReserved(
            order_id=order_id, lines=[StockLine(book_id=a, quantity=2), StockLine(book_id=b, quantity=5)]
        )
    ]


def test_place_is_all_or_nothing_and_lists_every_short_line() -> None:
    stock = _stock(5, 1, 0)
    a, b, c = stock
    order_id = uuid.uuid4()
    reservation = Reservation.place(order_id, {a: 2, b: 3, c: 1}, stock)
    assert reservation.status is ReservationStatus.FAILED
    assert reservation.lines == {}
    assert [r.reserved for r in stock.values()] == [0, 0, 0]
    assert all(r.events == [] and r.version == 1 for r in stock.values())
    assert reservation.events == [
        StockReservationFailed(
            order_id=order_id,
            short_lines=[
                ShortLine(book_id=b, requested=3, available=1),
                ShortLine(book_id=c, requested=1, available=0),
            ],
        )
    ]


def test_a_book_without_record_is_a_short_line_with_nothing_available() -> None:
    stock = _stock(5)
    (a,) = stock
    unknown = uuid.uuid4()
    reservation = Reservation.place(uuid.uuid4(), {a: 1, unknown: 2}, stock)
    assert reservation.short_lines == [ShortLine(book_id=unknown, requested=2, available=0)]
    assert stock[a].reserved == 0


def test_answer_again_repeats_the_stored_outcome() -> None:
    stock = _stock(1)
    (a,) = stock
    ok = Reservation.place(uuid.uuid4(), {a: 1}, stock)
    refused = Reservation.place(uuid.uuid4(), {a: 1}, stock)
    for reservation in (ok, refused):
        first = reservation.events[0]
        reservation.answer_again()
        assert reservation.events == [first, first]
    assert stock[a].reserved == 1


def test_release_returns_exactly_the_reserved_lines_once() -> None:
    stock = _stock(5, 5)
    a, b = stock
    reservation = Reservation.place(uuid.uuid4(), {a: 2, b: 1}, stock)
    reservation.events.clear()
    assert reservation.release(stock) is True
    assert reservation.status is ReservationStatus.RELEASED
    assert (stock[a].reserved, stock[b].reserved) == (0, 0)
    released = StockReleased(
        order_id=reservation.order_id,
        lines=[StockLine(book_id=a, quantity=2), StockLine(book_id=b, quantity=1)],
    )
    assert reservation.events == [released]
    # A second release changes nothing and answers the same again.
    assert reservation.release(stock) is False
    assert (stock[a].reserved, stock[a].version) == (0, 3)
    assert reservation.events == [released, released]


@pytest.mark.parametrize("status", [ReservationStatus.COMMITTED, ReservationStatus.FAILED])
def test_release_of_a_committed_or_refused_order_changes_and_answers_nothing(
    status: ReservationStatus,
) -> None:
    stock = _stock(5)
    (a,) = stock
    reservation = Reservation(uuid.uuid4(), status, {a: 1})
    assert reservation.release(stock) is False
    assert reservation.events == []
    assert stock[a].version == 1


def test_commit_lowers_on_hand_and_reserved_once() -> None:
    stock = _stock(5)
    (a,) = stock
    reservation = Reservation.place(uuid.uuid4(), {a: 2}, stock)
    reservation.events.clear()
    assert reservation.commit(stock) is True
    assert (stock[a].on_hand, stock[a].reserved, reservation.status) == (3, 0, ReservationStatus.COMMITTED)
    committed = StockCommitted(order_id=reservation.order_id, lines=[StockLine(book_id=a, quantity=2)])
    assert reservation.commit(stock) is False
    assert stock[a].on_hand == 3
    assert reservation.events == [committed, committed]


@pytest.mark.parametrize("status", [ReservationStatus.RELEASED, ReservationStatus.FAILED])
def test_commit_of_a_released_or_refused_order_is_refused(status: ReservationStatus) -> None:
    reservation = Reservation(uuid.uuid4(), status)
    with pytest.raises(CannotCommit, match=f"is {status.value}"):
        reservation.commit({})


def test_release_then_commit_is_refused() -> None:
    stock = _stock(5)
    (a,) = stock
    reservation = Reservation.place(uuid.uuid4(), {a: 2}, stock)
    reservation.release(stock)
    with pytest.raises(CannotCommit):
        reservation.commit(stock)
    assert (stock[a].on_hand, stock[a].reserved) == (5, 0)
