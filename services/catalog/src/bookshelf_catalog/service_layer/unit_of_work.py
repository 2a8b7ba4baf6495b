"""The unit of work port: one transaction, its repositories, and the hand-over of events to the outbox.

The shared base (``bookshelf_messaging.unit_of_work``) does the work: ``commit()`` collects the events
every touched book recorded and hands them to the outbox in the same transaction, then commits. A unit
of work can also *join* a transaction someone else owns (the consumer runner's), in which case
``commit()`` writes the events and leaves committing to the owner. Events go out on ``lane``
(``bulk`` for imports).
"""

from __future__ import annotations

import abc
from collections.abc import Iterable
from uuid import UUID

from bookshelf_contracts import Message
from bookshelf_messaging.outbox import Lane
from bookshelf_messaging.unit_of_work import Recorder
from bookshelf_messaging.unit_of_work import UnitOfWork as SharedUnitOfWork
from bookshelf_servicekit.idempotency import IdempotencyRepository

from bookshelf_catalog.service_layer.repositories import BookRepository, SupplierPayloadRepository

__all__ = ["Lane", "UnitOfWork"]


class UnitOfWork(SharedUnitOfWork):
    """Repositories of one transaction; events go out on ``lane`` (``bulk`` for imports)."""

    books: BookRepository
    supplier_payloads: SupplierPayloadRepository
    idempotency: IdempotencyRepository

    def seen(self) -> Iterable[Recorder]:
        """The books handed out or added in this unit of work."""
        return self.books.seen

    def collect_events(self) -> list[Message]:
        """Take the recorded events, in order, and forget the books (an import touches thousands)."""
        events = super().collect_events()
        self.books.seen.clear()
        return events

    @abc.abstractmethod
    async def publish(self, message: Message) -> UUID:
        """Write one message to the outbox now (in this transaction); returns its message id."""
