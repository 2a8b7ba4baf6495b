"""Shipping commands (``shipping.commands``) and events (``shipping.shipments``), keyed by order_id."""

from __future__ import annotations

from typing import Annotated, ClassVar
from uuid import UUID

from pydantic import Field

from bookshelf_contracts.base import Command, Event
from bookshelf_contracts.topic_names import SHIPPING_COMMANDS, SHIPPING_SHIPMENTS
from bookshelf_contracts.values import (
    AggregateVersion,
    DeliveryAddress,
    Reason,
    StockLine,
    TrackingNumber,
)

# --- shipping.commands -----------------------------------------------------------------------------


class CreateShipment(Command):
    """Create the (single) shipment of an order to ``address``.

    VERSION 2: ``address`` is a ``DeliveryAddress``, so a blank street is valid on the wire and
    shipping answers it with ShipmentFailed. Version 1 carried the order's ``Address``, which rejects a
    blank street (see ``upcasters.CreateShipmentV1`` and docs/adr/0007); ``parse_message`` upcasts it.
    """

    TOPIC: ClassVar[str] = SHIPPING_COMMANDS

    VERSION: ClassVar[int] = 2

    order_id: UUID
    address: DeliveryAddress
    lines: Annotated[list[StockLine], Field(min_length=1)]


class CancelShipment(Command):
    """Cancel an order's shipment if it is still CREATED."""

    TOPIC: ClassVar[str] = SHIPPING_COMMANDS

    order_id: UUID
    reason: Reason


# --- shipping.shipments ----------------------------------------------------------------------------


class ShipmentCreated(Event):
    """A shipment was created for an order (status CREATED)."""

    TOPIC: ClassVar[str] = SHIPPING_SHIPMENTS

    shipment_id: UUID
    order_id: UUID
    tracking_number: TrackingNumber
    version: AggregateVersion


class ShipmentFailed(Event):
    """No shipment could be created for an order (e.g. undeliverable address); none is kept."""

    TOPIC: ClassVar[str] = SHIPPING_SHIPMENTS

    order_id: UUID
    reason: Reason


class ShipmentDispatched(Event):
    """A shipment left the warehouse."""

    TOPIC: ClassVar[str] = SHIPPING_SHIPMENTS

    shipment_id: UUID
    order_id: UUID
    tracking_number: TrackingNumber
    version: AggregateVersion


class ShipmentDelivered(Event):
    """A shipment reached its address."""

    TOPIC: ClassVar[str] = SHIPPING_SHIPMENTS

    shipment_id: UUID
    order_id: UUID
    version: AggregateVersion


class ShipmentCancelled(Event):
    """A CREATED shipment was cancelled."""

    TOPIC: ClassVar[str] = SHIPPING_SHIPMENTS

    shipment_id: UUID
    order_id: UUID
    reason: Reason
    version: AggregateVersion
