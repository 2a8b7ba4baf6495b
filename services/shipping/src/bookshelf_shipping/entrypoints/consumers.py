"""The consumer of ``shipping.commands``: the saga's CreateShipment and CancelShipment.

Each handler runs in a unit of work joined to the transaction the runner opened (which also records
the inbox row; ``bootstrap`` passes the factory), so a redelivered command is skipped and the events
it caused are written exactly once. A command whose
payload fails validation (a line with quantity 0, an unknown field) never reaches these handlers: the
runner dead-letters it at once to ``shipping.commands.dlq`` with the validation message. A blank
street is not such a failure: CreateShipment v2's ``DeliveryAddress`` lets it through, and the
handler answers ShipmentFailed naming the rule (docs/adr/0007).
"""

from __future__ import annotations

from functools import partial

from bookshelf_contracts import SHIPPING_COMMANDS, CancelShipment, CreateShipment
from bookshelf_messaging import Consumer

from bookshelf_shipping.service_layer.handlers import ShippingDeps, handle


def consumers(group: str, deps: ShippingDeps) -> list[Consumer]:
    """The runner of ``shipping.commands`` for consumer group ``group``: each command through the
    service layer's command table, as ``handle(command, uow, deps)``."""
    on_command = partial(handle, deps=deps)
    return [Consumer(group, [SHIPPING_COMMANDS], {CreateShipment: on_command, CancelShipment: on_command})]
