"""The unit of work every service shares: one transaction, its repositories, and the hand-over of the
events the touched aggregates recorded to the outbox.

``UnitOfWork`` is the port, with no I/O: repositories remember every aggregate they hand out or store
(a service's ``seen()`` lists them), aggregates append events to their ``events`` list, and
``collect_events()`` drains them (plus any ``announce``d ones) in order. ``commit()`` hands the events
over and then commits. A service's port in ``service_layer/`` subclasses it with its repositories;
fakes for unit tests subclass that.

``SqlUnitOfWork`` is the implementation on one SQLAlchemy session and the service's ``Outbox``:

- ``SqlUnitOfWork.begin(session_factory, outbox)`` opens a session and owns its transaction:
  ``commit()`` writes the outbox rows and commits; leaving the block without ``commit()`` rolls back.
- ``SqlUnitOfWork.join(session, outbox)`` joins a transaction someone else owns (the consumer runner's,
  which also claims the inbox row): ``commit()`` writes the outbox rows and flushes; the owner commits.

A service keeps a small subclass in ``adapters/`` that builds its SQL repositories in ``__init__``.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any, Protocol, Self
from uuid import UUID

from bookshelf_contracts import Message
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bookshelf_messaging.outbox import Lane, Outbox

# More than one event goes in bulk statements of OUTBOX_BATCH rows each (rows keep the events' order):
# a round trip per event would hold inventory's stock writers lock, and every batch behind it, longer.
OUTBOX_BATCH = 5_000


class Recorder(Protocol):
    """An aggregate: it appends the events it raises to ``events``."""

    events: list[Any]


class UnitOfWork(abc.ABC):
    """Repositories of one transaction plus the event hand-off; events go out on ``lane``."""

    lane: Lane = "primary"
    _announced: list[Message]
    _done: bool

    def seen(self) -> Iterable[Recorder]:
        """Every aggregate the repositories handed out or stored, in the order events should go out."""
        return ()

    def announce(self, event: Message) -> None:
        """Queue an event no aggregate recorded (it goes out after the aggregates' events)."""
        self._pending().append(event)

    def collect_events(self) -> list[Message]:
        """Take the recorded events of every aggregate seen, then the announced ones."""
        events: list[Message] = []
        for aggregate in self.seen():
            events.extend(aggregate.events)
            aggregate.events.clear()
        events.extend(self._pending())
        self._announced = []
        return events

    def _pending(self) -> list[Message]:
        # Set lazily: subclasses (and test fakes) need not call an __init__ of ours.
        if not hasattr(self, "_announced"):
            self._announced = []
        return self._announced

    async def commit(self) -> None:
        """Hand the collected events to the outbox, then commit (or leave it to the owner)."""
        events = self.collect_events()
        if events:
            await self._publish_events(events, self.lane)
        await self._commit()
        self._done = True

    async def __aenter__(self) -> Self:
        self._done = False
        self.lane = "primary"
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self._done:
            await self.rollback()

    @abc.abstractmethod
    async def _publish_events(self, events: list[Message], lane: Lane) -> None:
        """Write the events to the outbox of this transaction."""

    @abc.abstractmethod
    async def _commit(self) -> None:
        """Commit (when the unit owns the transaction)."""

    @abc.abstractmethod
    async def rollback(self) -> None:
        """Undo everything of this unit of work (when it owns the transaction)."""


class SqlUnitOfWork(UnitOfWork):
    """``UnitOfWork`` on one SQLAlchemy session and the service's outbox (see the module docstring)."""

    def __init__(self, session: AsyncSession, outbox: Outbox, *, owns_transaction: bool) -> None:
        self.session = session
        self.outbox = outbox
        self.owns_transaction = owns_transaction

    @classmethod
    def join(cls, session: AsyncSession, outbox: Outbox) -> Self:
        """A unit of work inside ``session``'s transaction, which its owner commits."""
        return cls(session, outbox, owns_transaction=False)

    @classmethod
    @asynccontextmanager
    async def begin(
        cls, session_factory: async_sessionmaker[AsyncSession], outbox: Outbox
    ) -> AsyncIterator[Self]:
        """A unit of work that owns a new transaction; leaving without ``commit()`` rolls back."""
        async with session_factory() as session, cls(session, outbox, owns_transaction=True) as uow:
            yield uow

    @classmethod
    @asynccontextmanager
    async def in_transaction(
        cls, session_factory: async_sessionmaker[AsyncSession], outbox: Outbox
    ) -> AsyncIterator[Self]:
        """A unit of work joined to a new transaction that the block owns: when the block ends without
        an error the events still recorded are written and the transaction commits; an error rolls all
        of it back. For handlers written for a caller-owned transaction (inventory's, shipping's)."""
        async with session_factory() as session, session.begin():
            uow = cls.join(session, outbox)
            yield uow
            await uow.commit()

    async def publish(self, message: Message) -> UUID:
        """Write one message to the outbox now (in this transaction); returns its message id."""
        envelope = await self.outbox.add(self.session, message)
        return envelope.message_id

    async def _publish_events(self, events: list[Message], lane: Lane) -> None:
        if len(events) == 1:
            await self.outbox.add(self.session, events[0], lane=lane)
            return
        for start in range(0, len(events), OUTBOX_BATCH):
            await self.outbox.add_many(self.session, events[start : start + OUTBOX_BATCH], lane=lane)

    async def _commit(self) -> None:
        if self.owns_transaction:
            await self.session.commit()
        else:
            await self.session.flush()

    async def rollback(self) -> None:
        """Roll back an own transaction; a joined one is rolled back by its owner when the handler raises."""
        if self.owns_transaction:
            await self.session.rollback()
