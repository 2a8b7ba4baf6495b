"""Shipping commands (``shipping.commands``) and events (``shipping.shipments``), keyed by order_id."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import Field

from bookshelf_contracts.base import Command, Event
from bookshelf_contracts.values import Address, AggregateVersion, Reason, StockLine, TrackingNumber

# --- shipping.commands -----------------------------------------------------------------------------


class CreateShipment(Command):
    """Create the (single) shipment of an order to ``address``."""

    order_id: UUID
    address: Address
    lines: Annotated[list[StockLine], Field(min_length=1)]


class CancelShipment(Command):
    """Cancel an order's shipment if it is still CREATED."""

    order_id: UUID
    reason: Reason


# --- shipping.shipments ----------------------------------------------------------------------------


class ShipmentCreated(Event):
    """A shipment was created for an order (status CREATED)."""

    shipment_id: UUID
    order_id: UUID
    tracking_number: TrackingNumber
    version: AggregateVersion


class ShipmentFailed(Event):
    """No shipment could be created for an order (e.g. undeliverable address); none is kept."""

    order_id: UUID
    reason: Reason


class ShipmentDispatched(Event):
    """A shipment left the warehouse."""

    shipment_id: UUID
    order_id: UUID
    tracking_number: TrackingNumber
    version: AggregateVersion


class ShipmentDelivered(Event):
    """A shipment reached its address."""

    shipment_id: UUID
    order_id: UUID
    version: AggregateVersion


class ShipmentCancelled(Event):
    """A CREATED shipment was cancelled."""

    shipment_id: UUID
    order_id: UUID
    reason: Reason
    version: AggregateVersion
