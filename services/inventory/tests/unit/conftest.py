"""The in-memory unit of work of inventory's unit tests (its repositories: tests/fakes.py)."""

from __future__ import annotations

from typing import Any

import pytest
from bookshelf_contracts import Event
from bookshelf_inventory.service_layer.unit_of_work import UnitOfWork

from ..fakes import FakeBookReplica, FakeReservationRepository, FakeStockRepository


class FakeUnitOfWork(UnitOfWork):
    """Keeps state across "transactions"; ``published`` collects what would go to the outbox."""

    def __init__(self) -> None:
        self.stock = FakeStockRepository()
        self.reservations = FakeReservationRepository()
        self.books = FakeBookReplica()
        self.published: list[Event] = []

    async def _publish_events(self, events: list[Any], lane: str) -> None:
        self.published.extend(events)

    async def _commit(self) -> None:
        self.stock.seen.clear()
        self.reservations.seen.clear()

    async def rollback(self) -> None:
        pass


@pytest.fixture
def inventory_uow() -> FakeUnitOfWork:
    """A fresh in-memory unit of work."""
    return FakeUnitOfWork()
