"""Ordering events (``ordering.orders``) and commands (``ordering.commands``), keyed by order_id."""

from __future__ import annotations

from typing import Annotated, ClassVar
from uuid import UUID

from pydantic import Field

from bookshelf_contracts.base import Command, Event
from bookshelf_contracts.topic_names import ORDERING_COMMANDS, ORDERING_ORDERS
from bookshelf_contracts.values import (
    Address,
    AggregateVersion,
    Customer,
    Money,
    OrderLineData,
    Reason,
    ShortLine,
    TrackingNumber,
)

# --- ordering.orders -------------------------------------------------------------------------------


class OrderPlaced(Event):
    """An order was placed (status PENDING); carries the full order."""

    TOPIC: ClassVar[str] = ORDERING_ORDERS

    order_id: UUID
    customer: Customer
    shipping_address: Address
    lines: Annotated[list[OrderLineData], Field(min_length=1, max_length=50)]
    total: Money
    version: AggregateVersion


class OrderConfirmed(Event):
    """An order's stock was reserved and the order confirmed."""

    TOPIC: ClassVar[str] = ORDERING_ORDERS

    order_id: UUID
    version: AggregateVersion


class OrderCancellationRequested(Event):
    """The customer asked to cancel an order; it keeps its status until the saga decides.

    The saga cancels the shipment first: the order then ends CANCELLED (``OrderCancelled``), or,
    when the shipment had already left, goes on to SHIPPED with the refusal in its history.
    """

    TOPIC: ClassVar[str] = ORDERING_ORDERS

    order_id: UUID
    reason: Reason
    version: AggregateVersion


class OrderCancelled(Event):
    """An order was cancelled from ``previous_status`` (PENDING or CONFIRMED) for ``reason``."""

    TOPIC: ClassVar[str] = ORDERING_ORDERS

    order_id: UUID
    reason: Reason
    previous_status: str
    version: AggregateVersion


class OrderShipped(Event):
    """An order's shipment left the warehouse."""

    TOPIC: ClassVar[str] = ORDERING_ORDERS

    order_id: UUID
    tracking_number: TrackingNumber
    version: AggregateVersion


class OrderDelivered(Event):
    """An order reached its customer."""

    TOPIC: ClassVar[str] = ORDERING_ORDERS

    order_id: UUID
    version: AggregateVersion


# --- ordering.commands -----------------------------------------------------------------------------


class ConfirmOrder(Command):
    """Confirm a PENDING order (its stock is reserved)."""

    TOPIC: ClassVar[str] = ORDERING_COMMANDS

    order_id: UUID


class CancelOrder(Command):
    """Cancel an order for ``reason``; ``short_lines`` when stock ran out."""

    TOPIC: ClassVar[str] = ORDERING_COMMANDS

    order_id: UUID
    reason: Reason
    short_lines: list[ShortLine] = Field(default_factory=list)


class MarkOrderShipped(Command):
    """Record that an order's shipment was dispatched under ``tracking_number``."""

    TOPIC: ClassVar[str] = ORDERING_COMMANDS

    order_id: UUID
    tracking_number: TrackingNumber


class MarkOrderDelivered(Command):
    """Record that an order was delivered."""

    TOPIC: ClassVar[str] = ORDERING_COMMANDS

    order_id: UUID
