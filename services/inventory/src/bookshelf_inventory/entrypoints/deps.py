"""FastAPI dependencies of the inventory routes (``Annotated`` aliases, like full-stack-fastapi's deps)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from bookshelf_messaging import Outbox
from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bookshelf_inventory.config import InventorySettings


@dataclass(frozen=True)
class InventoryServices:
    """What routes need, put on ``app.state.inventory`` by bootstrap."""

    session_factory: async_sessionmaker[AsyncSession]
    outbox: Outbox
    settings: InventorySettings


def services_of(request: Request) -> InventoryServices:
    """The services bootstrap attached to the app."""
    services = request.app.state.inventory
    assert isinstance(services, InventoryServices)
    return services


Services = Annotated[InventoryServices, Depends(services_of)]


async def read_session(services: Services) -> AsyncIterator[AsyncSession]:
    """A session for read queries (no transaction is held open beyond the request)."""
    async with services.session_factory() as session:
        yield session


ReadSession = Annotated[AsyncSession, Depends(read_session)]
