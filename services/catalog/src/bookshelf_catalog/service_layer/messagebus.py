"""The message bus: finds a command's handler and runs it in a unit of work it commits.

HTTP routes call ``handle`` (or ``handle_idempotent`` for creates with an ``Idempotency-Key``);
Kafka consumers call ``handle_in`` with a unit of work joined to the runner's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any

from bookshelf_servicekit.idempotency import IdempotencyRequest, StoredResponse, run_idempotent

from bookshelf_catalog.service_layer.commands import Command
from bookshelf_catalog.service_layer.handlers import COMMAND_HANDLERS, Handler
from bookshelf_catalog.service_layer.unit_of_work import UnitOfWork


class MessageBus:
    """Dispatches commands to ``handlers`` inside units of work ``uow_factory`` opens (``async with``)."""

    def __init__(
        self,
        uow_factory: Callable[[], AbstractAsyncContextManager[UnitOfWork]],
        handlers: Mapping[type[Command], Handler] = COMMAND_HANDLERS,
    ) -> None:
        self.uow_factory = uow_factory
        self.handlers = dict(handlers)

    def _handler(self, command: Command) -> Handler:
        try:
            return self.handlers[type(command)]
        except KeyError:
            raise LookupError(f"no handler for {type(command).__name__}") from None

    async def handle(self, command: Command) -> Any:
        """Run the command in its own transaction and return the handler's result."""
        handler = self._handler(command)
        async with self.uow_factory() as uow:
            result = await handler(command, uow)
            await uow.commit()
        return result

    async def handle_in(self, command: Command, uow: UnitOfWork) -> Any:
        """Run the command in a unit of work someone else opened (a consumer's transaction)."""
        result = await self._handler(command)(command, uow)
        await uow.commit()
        return result

    async def handle_idempotent(
        self,
        command: Command,
        key: IdempotencyRequest | None,
        render: Callable[[Any], Any],
        *,
        status_code: int = 201,
    ) -> StoredResponse:
        """Run a create once per key: the effect and the stored answer share one transaction."""
        handler = self._handler(command)
        async with self.uow_factory() as uow:

            async def work() -> Any:
                return render(await handler(command, uow))

            answer = await run_idempotent(uow.idempotency, key, work, status_code=status_code)
            await uow.commit()
        return answer
