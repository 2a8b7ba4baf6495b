"""The unit of work: one transaction, its repositories, and the hand-over of events to the outbox.

``commit()`` collects the events every touched aggregate recorded and hands them to the outbox in the
same transaction, then commits. A unit of work can also *join* a transaction someone else owns (the
consumer runner's), in which case ``commit()`` writes the events and leaves committing to the owner.
"""

from __future__ import annotations

import abc
from types import TracebackType
from typing import Literal, Self
from uuid import UUID

from bookshelf_contracts import Message
from bookshelf_servicekit.idempotency import IdempotencyRepository

from bookshelf_catalog.service_layer.repositories import BookRepository, SupplierPayloadRepository

Lane = Literal["primary", "bulk"]


class UnitOfWork(abc.ABC):
    """Repositories of one transaction; events go out on ``lane`` (``bulk`` for imports)."""

    books: BookRepository
    supplier_payloads: SupplierPayloadRepository
    idempotency: IdempotencyRepository
    lane: Lane = "primary"

    async def __aenter__(self) -> Self:
        self._done = False
        self.lane = "primary"
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self._done:
            await self.rollback()

    async def commit(self) -> None:
        """Hand the recorded events to the outbox, then commit (or leave it to the owner)."""
        events = self.collect_events()
        if events:
            await self._publish_events(events, self.lane)
        await self._commit()
        self._done = True

    def collect_events(self) -> list[Message]:
        """Take the recorded events of every aggregate touched in this unit of work, in order."""
        events: list[Message] = []
        for book in self.books.seen:
            events.extend(book.events)
            book.events.clear()
        self.books.seen.clear()
        return events

    @abc.abstractmethod
    async def publish(self, message: Message) -> UUID:
        """Write one message to the outbox now (in this transaction); returns its message id."""

    @abc.abstractmethod
    async def _publish_events(self, events: list[Message], lane: Lane) -> None: ...

    @abc.abstractmethod
    async def _commit(self) -> None: ...

    @abc.abstractmethod
    async def rollback(self) -> None:
        """Undo everything of this unit of work."""
