"""The reservation of one order: all lines or none, then released or committed exactly once.

A reservation is stored per order, whatever its outcome, so a repeated ReserveStock answers the same
outcome again instead of reserving twice. Release and commit touch exactly the stored lines.

A released order is closed for good: a later or replayed ReserveStock reserves nothing and answers
StockReservationFailed (reason ``order closed``). A release of an order without a reservation stores
a tombstone (RELEASED, no lines) so that a ReserveStock arriving after it is refused too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from uuid import UUID

from bookshelf_contracts import (
    Event,
    ShortLine,
    StockCommitted,
    StockLine,
    StockReleased,
    StockReservationFailed,
    StockReserved,
)

from bookshelf_inventory.domain.exceptions import CannotCommit, StockInvariantBroken
from bookshelf_inventory.domain.stock import StockRecord

Lines = dict[UUID, int]  # book_id -> quantity, sorted by book_id
ORDER_CLOSED = "order closed"


class ReservationStatus(StrEnum):
    """Where a reservation stands; FAILED keeps a refused order's answer (nothing is reserved)."""

    RESERVED = "RESERVED"
    RELEASED = "RELEASED"
    COMMITTED = "COMMITTED"
    FAILED = "FAILED"


def merge_lines(lines: Iterable[StockLine]) -> Lines:
    """Lines of the same book summed, sorted by book_id (the order row locks are taken in)."""
    merged: Lines = {}
    for line in lines:
        merged[line.book_id] = merged.get(line.book_id, 0) + line.quantity
    return dict(sorted(merged.items()))


def shortages(lines: Mapping[UUID, int], stock: Mapping[UUID, StockRecord]) -> list[ShortLine]:
    """Every line asking for more than is available (a book without a record has 0 available)."""
    short: list[ShortLine] = []
    for book_id, requested in lines.items():
        record = stock.get(book_id)
        available = record.available if record is not None else 0
        if requested > available:
            short.append(ShortLine(book_id=book_id, requested=requested, available=available))
    return short


def _stock_lines(lines: Mapping[UUID, int]) -> list[StockLine]:
    return [StockLine(book_id=book_id, quantity=quantity) for book_id, quantity in lines.items()]


@dataclass(eq=False)
class Reservation:
    """An order's reservation: its status, the reserved lines and, when FAILED, the short lines."""

    order_id: UUID
    status: ReservationStatus
    lines: Lines = field(default_factory=dict)
    short_lines: list[ShortLine] = field(default_factory=list)
    events: list[Event] = field(default_factory=list, repr=False)

    @classmethod
    def place(
        cls, order_id: UUID, lines: Mapping[UUID, int], stock: Mapping[UUID, StockRecord]
    ) -> Reservation:
        """Reserve every line or none; records StockReserved or StockReservationFailed.

        ``stock`` holds the (locked) records of the lines' books; on success each is changed and
        records its new level, on failure none is touched.
        """
        short = shortages(lines, stock)
        if short:
            reservation = cls(order_id, ReservationStatus.FAILED, short_lines=short)
        else:
            for book_id, quantity in lines.items():
                stock[book_id].reserve(quantity)
            reservation = cls(order_id, ReservationStatus.RESERVED, lines=dict(lines))
        reservation.events.append(reservation.outcome())
        return reservation

    @classmethod
    def tombstone(cls, order_id: UUID) -> Reservation:
        """A released order that never had a reservation: refuses every later ReserveStock."""
        return cls(order_id, ReservationStatus.RELEASED)

    def outcome(self) -> Event:
        """The answer to ReserveStock: the reserved lines, the short lines of a refusal, or, once
        released, a refusal because the order is closed."""
        if self.status is ReservationStatus.FAILED:
            return StockReservationFailed(order_id=self.order_id, short_lines=list(self.short_lines))
        if self.status is ReservationStatus.RELEASED:
            return StockReservationFailed(order_id=self.order_id, short_lines=[], reason=ORDER_CLOSED)
        return StockReserved(order_id=self.order_id, lines=_stock_lines(self.lines))

    def answer_again(self) -> None:
        """A repeated ReserveStock: change nothing, record the stored outcome again."""
        self.events.append(self.outcome())

    def release(self, stock: Mapping[UUID, StockRecord]) -> bool:
        """Return exactly the reserved lines; True when something changed.

        Releasing a RELEASED reservation re-records StockReleased (the same answer, no change);
        a COMMITTED or FAILED one changes nothing and records nothing.
        """
        if self.status is ReservationStatus.RELEASED:
            self.events.append(StockReleased(order_id=self.order_id, lines=_stock_lines(self.lines)))
            return False
        if self.status is not ReservationStatus.RESERVED:
            return False
        for book_id, quantity in self.lines.items():
            _record(stock, book_id, self.order_id).release(quantity)
        self.status = ReservationStatus.RELEASED
        self.events.append(StockReleased(order_id=self.order_id, lines=_stock_lines(self.lines)))
        return True

    def commit(self, stock: Mapping[UUID, StockRecord]) -> bool:
        """The reserved goods left: on_hand and reserved go down per line; True when something changed.

        Committing a COMMITTED reservation re-records StockCommitted (idempotent); a RELEASED or
        FAILED one raises CannotCommit (the goods were never held for this order).
        """
        if self.status is ReservationStatus.COMMITTED:
            self.events.append(StockCommitted(order_id=self.order_id, lines=_stock_lines(self.lines)))
            return False
        if self.status is not ReservationStatus.RESERVED:
            raise CannotCommit(self.order_id, self.status.value)
        for book_id, quantity in self.lines.items():
            _record(stock, book_id, self.order_id).commit(quantity)
        self.status = ReservationStatus.COMMITTED
        self.events.append(StockCommitted(order_id=self.order_id, lines=_stock_lines(self.lines)))
        return True


def _record(stock: Mapping[UUID, StockRecord], book_id: UUID, order_id: UUID) -> StockRecord:
    record = stock.get(book_id)
    if record is None:
        raise StockInvariantBroken(
            f"order_id {order_id} reserved book_id {book_id}, which has no stock record"
        )
    return record
