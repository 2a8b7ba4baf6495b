"""The unit of work: repositories bound to one transaction, and the hand-off of events to the outbox.

Aggregates record events; ``collect_events`` drains them from every aggregate the repositories
handed out, and ``commit`` writes them to the outbox in the same transaction
(``bookshelf_messaging.unit_of_work``), so an event exists exactly when its change commits. The caller
owns the transaction: an HTTP request opens one (``adapters.unit_of_work.transaction``), a consumer
handler runs in the runner's (the one that also writes the inbox).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol
from uuid import UUID

from bookshelf_messaging.unit_of_work import Recorder
from bookshelf_messaging.unit_of_work import UnitOfWork as SharedUnitOfWork

from bookshelf_inventory.domain.reservation import Reservation
from bookshelf_inventory.domain.stock import StockRecord


class StockRepository(Protocol):
    """Stock records; ``seen`` holds every record handed out or added in this unit of work."""

    seen: list[StockRecord]

    async def lock(self, book_ids: Sequence[UUID]) -> dict[UUID, StockRecord]:
        """The records of these books (missing ones left out), row-locked in book_id order."""
        ...

    async def add(self, record: StockRecord) -> bool:
        """Store a new record; False (and nothing stored) when the book already has one."""
        ...

    async def save(self, records: Sequence[StockRecord]) -> None:
        """Write the changed levels of locked records."""
        ...


class ReservationRepository(Protocol):
    """Reservations per order; ``seen`` holds every reservation handed out or added."""

    seen: list[Reservation]

    async def lock(self, order_id: UUID) -> Reservation | None:
        """The order's reservation with its lines, row-locked; None when there is none."""
        ...

    async def add(self, reservation: Reservation) -> bool:
        """Store a new reservation with its lines; False (nothing stored) when the order has one."""
        ...

    async def save(self, reservation: Reservation) -> None:
        """Write a locked reservation's new status."""
        ...


class BookReplica(Protocol):
    """Inventory's copy of catalog facts it needs: titles (for reads) and ISBN -> book_id."""

    async def upsert(self, book_id: UUID, title: str, isbn: str | None, version: int) -> None:
        """Keep the newest catalog state of a book (older versions are ignored)."""
        ...

    async def upsert_many(self, books: Sequence[tuple[UUID, str, str | None, int]]) -> None:
        """``upsert`` of several ``(book_id, title, isbn, version)`` at once."""
        ...

    async def book_id_for_isbn(self, isbn: str) -> UUID | None:
        """The book with this ISBN-13, if the catalog announced one."""
        ...


class UnitOfWork(SharedUnitOfWork):
    """Repositories of one transaction; the shared base hands their events to the outbox on ``commit``."""

    stock: StockRepository
    reservations: ReservationRepository
    books: BookReplica

    def seen(self) -> Iterable[Recorder]:
        """Reservations first, then stock records: their events go out in that order."""
        return [*self.reservations.seen, *self.stock.seen]

    def discard(self, *records: StockRecord) -> None:
        """Forget in-memory changes of records that will not be saved (their events are dropped)."""
        for record in records:
            record.events.clear()
