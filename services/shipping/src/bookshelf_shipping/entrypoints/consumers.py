"""The consumer of ``shipping.commands``: the saga's CreateShipment and CancelShipment.

Each handler joins the transaction the runner opened (which also records the inbox row), so a
redelivered command is skipped and the events it caused are written exactly once. A command whose
payload fails validation (a line with quantity 0, an unknown field) never reaches these handlers: the
runner dead-letters it at once to ``shipping.commands.dlq`` with the validation message. A blank
street is not such a failure: CreateShipment v2's ``DeliveryAddress`` lets it through, and the
handler answers ShipmentFailed naming the rule (docs/adr/0007).
"""

from __future__ import annotations

from collections.abc import Mapping

from bookshelf_contracts import SHIPPING_COMMANDS, Envelope, Message
from bookshelf_messaging import ConsumerRunner, Handler, KafkaSettings, Outbox
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bookshelf_shipping.adapters.unit_of_work import SqlUnitOfWork
from bookshelf_shipping.service_layer.handlers import ShippingDeps, handle


def command_handlers(outbox: Outbox, deps: ShippingDeps) -> Mapping[str, Handler]:
    """Message type -> runner handler, each delegating to the service layer's command table."""

    async def on_command(message: Message, envelope: Envelope, session: AsyncSession) -> None:
        """Run the command's handler in the runner's transaction (inbox row, change, outbox rows)."""
        await handle(message, SqlUnitOfWork.join(session, outbox), deps)

    return {"CreateShipment": on_command, "CancelShipment": on_command}


def commands_consumer(
    group_id: str,
    session_factory: async_sessionmaker[AsyncSession],
    kafka: KafkaSettings,
    outbox: Outbox,
    deps: ShippingDeps,
) -> ConsumerRunner:
    """The runner of ``shipping.commands`` for consumer group ``group_id``."""
    return ConsumerRunner(
        group_id=group_id,
        topics=[SHIPPING_COMMANDS],
        handlers=command_handlers(outbox, deps),
        session_factory=session_factory,
        kafka=kafka,
    )
