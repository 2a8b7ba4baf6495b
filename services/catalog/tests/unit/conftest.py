"""Fakes for handler tests: in-memory repositories and a unit of work that records what it publishes."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest
from bookshelf_catalog.service_layer.messagebus import MessageBus
from bookshelf_catalog.service_layer.unit_of_work import Lane, UnitOfWork
from bookshelf_contracts import Message
from bookshelf_servicekit.testing import InMemoryIdempotencyRepository

from ..fakes import FakeBookRepository, FakeSupplierPayloads


class FakeUnitOfWork(UnitOfWork):
    """Shared state across units of work, like one database."""

    def __init__(self) -> None:
        self.books = FakeBookRepository()
        self.supplier_payloads = FakeSupplierPayloads()
        self.idempotency = InMemoryIdempotencyRepository()
        self.published: list[tuple[Message, Lane]] = []
        self.commits = 0

    async def publish(self, message: Message) -> UUID:
        self.published.append((message, "primary"))
        return uuid4()

    async def _publish_events(self, events: list[Message], lane: Lane) -> None:
        self.published.extend((event, lane) for event in events)

    async def _commit(self) -> None:
        self.commits += 1

    async def rollback(self) -> None:
        pass

    def messages(self, type_name: str | None = None) -> list[Message]:
        return [m for m, _ in self.published if type_name is None or type_name == m.TYPE]


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


@pytest.fixture
def bus(uow: FakeUnitOfWork) -> MessageBus:
    return MessageBus(lambda: uow)
