"""The consumer runner's handler contract: what a service registers per message type.

A service writes ``handler(message, uow)`` functions in tables keyed by contract class and gives the
runner a unit-of-work factory (``bind_handlers``): each message runs in a unit of work joined to the
runner's transaction (which also claims the inbox row and commits before the offset does), committed
after the handler. Underneath, a ``Handler`` is called with the parsed contract, its envelope and the
runner's session. A ``BatchHandler`` gets every consecutive fresh message of its types in a partition
batch in one call, in order, with the session (projections and replicas that write set-based).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bookshelf_contracts import Envelope
from sqlalchemy.ext.asyncio import AsyncSession

from bookshelf_messaging.errors import PermanentError

# The first argument is the parsed contract (a ``Message`` subclass). Typed ``Any`` so handlers can
# declare the class they handle (``message: BookAdded``) without a cast: Callable parameters are
# contravariant, and a handler table maps each type name to its own class.
Handler = Callable[[Any, Envelope, AsyncSession], Awaitable[None]]
Batch = Sequence[tuple[Any, Envelope]]


@dataclass(frozen=True, slots=True)
class BatchHandler:
    """Wraps ``fn(batch, session)``: consecutive messages it handles arrive in one call, in order."""

    fn: Callable[[Batch, AsyncSession], Awaitable[None]]


AnyHandler = Handler | BatchHandler


UnitOfWorkHandler = Callable[[Any, Any], Awaitable[Any]]
"""A service-layer handler: ``handler(message, uow)`` (the message typed as the contract it handles)."""
UnitOfWorkFactory = Callable[[AsyncSession], Any]
"""Builds the service's unit of work joined to the runner's session (``SqlUnitOfWork.join``)."""
# Keyed by contract class (or type name); Any because Mapping keys are invariant: a service table typed
# ``dict[type[Message], ...]`` must fit.
HandlerTable = Mapping[Any, UnitOfWorkHandler | BatchHandler]


def in_unit_of_work(
    handler: UnitOfWorkHandler, uow: UnitOfWorkFactory, permanent: tuple[type[Exception], ...] = ()
) -> Handler:
    """``handler(message, uow)`` as a runner handler: a unit of work joined to the runner's transaction
    (which also claims the inbox row), committed after the handler (its events go to the outbox).

    The ``permanent`` error types are faults of the message itself (retrying cannot help): they become
    a ``PermanentError`` naming the cause, so the message is dead-lettered at once.
    """

    async def handle(message: Any, envelope: Envelope, session: AsyncSession) -> None:
        unit = uow(session)
        try:
            await handler(message, unit)
        except permanent as exc:
            raise PermanentError(f"{type(exc).__name__}: {exc}") from exc
        await unit.commit()

    return handle


def bind_handlers(
    table: HandlerTable, uow: UnitOfWorkFactory, permanent: tuple[type[Exception], ...] = ()
) -> dict[str, AnyHandler]:
    """``{type name: runner handler}`` of a service's table keyed by contract class (or type name).

    A ``BatchHandler`` stays as it is (it gets the runner's session); every other handler runs in a
    unit of work (``in_unit_of_work``).
    """
    return {
        key if isinstance(key, str) else key.TYPE: handler
        if isinstance(handler, BatchHandler)
        else in_unit_of_work(handler, uow, permanent)
        for key, handler in table.items()
    }
