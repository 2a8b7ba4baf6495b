"""FastAPI dependencies: the service's session factory and outbox, as bootstrap stored them."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Annotated

from bookshelf_messaging import Outbox
from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bookshelf_ordering.service_layer.unit_of_work import SqlUnitOfWork, sql_unit_of_work


@dataclass(frozen=True)
class OrderingDeps:
    """What the routes need: sessions for reads, units of work for writes."""

    session_factory: async_sessionmaker[AsyncSession]
    outbox: Outbox

    def uow(self) -> AbstractAsyncContextManager[SqlUnitOfWork]:
        """A unit of work owning one transaction."""
        return sql_unit_of_work(self.session_factory, self.outbox)


STATE_KEY = "ordering"


def get_deps(request: Request) -> OrderingDeps:
    """The ``OrderingDeps`` bootstrap put on the app."""
    deps = getattr(request.app.state, STATE_KEY)
    assert isinstance(deps, OrderingDeps)
    return deps


Deps = Annotated[OrderingDeps, Depends(get_deps)]
