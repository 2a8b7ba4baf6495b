"""The Order aggregate: placement, the status machine, status history and the events it records.

The aggregate never publishes and never reads a clock: callers pass ``now``, and the recorded contract
events wait in ``events`` until the unit of work hands them to the outbox in the same transaction.

Status machine (docs/domain.md)::

    PENDING --confirm--> CONFIRMED --ship--> SHIPPED --deliver--> DELIVERED
    PENDING|CONFIRMED --cancel--> CANCELLED

A transition whose target is the current status is a repeat: an idempotent no-op that records
nothing (ship is a repeat only with the same tracking number). Anything else raises
``TransitionNotAllowed``.

A customer's cancel is a request, not a transition: the order keeps its status, with the request in
its history, until the saga answers with CancelOrder, or with MarkOrderShipped when the shipment had
already left (then the refusal joins the history).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import cached_property
from uuid import UUID

from bookshelf_contracts import (
    Address,
    Customer,
    Event,
    Money,
    OrderCancellationRequested,
    OrderCancelled,
    OrderConfirmed,
    OrderDelivered,
    OrderLineData,
    OrderPlaced,
    OrderShipped,
)

from bookshelf_ordering.domain.exceptions import InvalidOrder, TransitionNotAllowed
from bookshelf_ordering.domain.placement import (
    CatalogEntry,
    OrderLine,
    RequestedLine,
    order_total,
    price_lines,
)

MAX_REASON_LENGTH = 1000
CANCELLATION_REQUESTED = "cancellation requested"
CANCELLATION_REFUSED = "cancellation refused: already dispatched"


class OrderStatus(StrEnum):
    """Where an order is in its life."""

    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"


# action -> (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[OrderStatus], OrderStatus]] = {
    "confirm": (frozenset({OrderStatus.PENDING}), OrderStatus.CONFIRMED),
    "ship": (frozenset({OrderStatus.CONFIRMED}), OrderStatus.SHIPPED),
    "deliver": (frozenset({OrderStatus.SHIPPED}), OrderStatus.DELIVERED),
    "cancel": (frozenset({OrderStatus.PENDING, OrderStatus.CONFIRMED}), OrderStatus.CANCELLED),
}


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One entry of an order's status history."""

    status: OrderStatus
    at: datetime
    reason: str | None = None


@dataclass(eq=False)
class Order:
    """A customer's order (docs/domain.md "Ordering"); ``version`` counts its changes from 1."""

    order_id: UUID
    customer: Customer
    shipping_address: Address
    lines: tuple[OrderLine, ...]
    status: OrderStatus
    version: int
    created_at: datetime
    updated_at: datetime
    history: list[StatusChange] = field(default_factory=list)
    tracking_number: str | None = None
    cancellation_reason: str | None = None
    events: list[Event] = field(default_factory=list, repr=False)

    @cached_property
    def total(self) -> Money:
        """The sum of the line totals (lines never change after placement)."""
        return order_total(self.lines)

    @classmethod
    def place(
        cls,
        *,
        order_id: UUID,
        customer: Customer,
        shipping_address: Address,
        items: Sequence[RequestedLine],
        catalog: Mapping[UUID, CatalogEntry],
        now: datetime,
    ) -> Order:
        """A PENDING order priced from the catalog replica (raises InvalidOrder); records OrderPlaced."""
        lines = price_lines(items, catalog)
        order = cls(
            order_id=order_id,
            customer=customer,
            shipping_address=shipping_address,
            lines=tuple(lines),
            status=OrderStatus.PENDING,
            version=1,
            created_at=now,
            updated_at=now,
            history=[StatusChange(OrderStatus.PENDING, now, "order placed")],
        )
        order.events.append(order._placed_event())
        return order

    def confirm(self, now: datetime) -> bool:
        """PENDING -> CONFIRMED; True when it changed, False for a repeat; records OrderConfirmed."""
        if not self._move("confirm", now, "stock reserved"):
            return False
        self.events.append(OrderConfirmed(order_id=self.order_id, version=self.version))
        return True

    def cancel(self, reason: str, now: datetime) -> bool:
        """PENDING|CONFIRMED -> CANCELLED for ``reason``; a cancelled order stays as first cancelled."""
        clean = reason.strip()[:MAX_REASON_LENGTH]
        if not clean:
            raise InvalidOrder([("reason", "a cancellation needs a non-blank reason")])
        previous = self.status
        if not self._move("cancel", now, clean):
            return False
        self.cancellation_reason = clean
        self.events.append(
            OrderCancelled(
                order_id=self.order_id, reason=clean, previous_status=previous.value, version=self.version
            )
        )
        return True

    @property
    def cancellation_pending(self) -> bool:
        """A cancellation was requested and the saga has not decided yet (the order is still open)."""
        open_statuses = TRANSITIONS["cancel"][0]
        return self.status in open_statuses and any(
            entry.reason is not None and entry.reason.startswith(CANCELLATION_REQUESTED)
            for entry in self.history
        )

    def request_cancellation(self, reason: str, now: datetime) -> bool:
        """Record a cancellation request (status unchanged); False when already requested or CANCELLED.

        SHIPPED or DELIVERED raise TransitionNotAllowed: the goods left, there is nothing to decide.
        Records OrderCancellationRequested, which the saga decides.
        """
        clean = reason.strip()[:MAX_REASON_LENGTH] or "customer request"
        sources, target = TRANSITIONS["cancel"]
        if self.status is target or self.cancellation_pending:
            return False
        if self.status not in sources:
            raise TransitionNotAllowed(
                self.order_id, "cancel", self.status.value, "the shipment already left the warehouse"
            )
        self.version += 1
        self.updated_at = now
        note = f"{CANCELLATION_REQUESTED} ({clean})"[:MAX_REASON_LENGTH]
        self.history.append(StatusChange(self.status, now, note))
        self.events.append(
            OrderCancellationRequested(order_id=self.order_id, reason=clean, version=self.version)
        )
        return True

    def ship(self, tracking_number: str, now: datetime) -> bool:
        """CONFIRMED -> SHIPPED under ``tracking_number``; records OrderShipped."""
        if self.status is OrderStatus.SHIPPED and tracking_number != self.tracking_number:
            raise TransitionNotAllowed(
                self.order_id,
                "ship",
                self.status.value,
                f"already shipped with tracking number {self.tracking_number}, not {tracking_number}",
            )
        if not self._move("ship", now, f"shipped with tracking number {tracking_number}"):
            return False
        self.tracking_number = tracking_number
        if any(entry.reason and entry.reason.startswith(CANCELLATION_REQUESTED) for entry in self.history):
            # The saga answered the customer's request by shipping: the goods had already left.
            self.history.append(StatusChange(self.status, now, CANCELLATION_REFUSED))
        self.events.append(
            OrderShipped(order_id=self.order_id, tracking_number=tracking_number, version=self.version)
        )
        return True

    def deliver(self, now: datetime) -> bool:
        """SHIPPED -> DELIVERED; records OrderDelivered."""
        if not self._move("deliver", now, "delivered to the customer"):
            return False
        self.events.append(OrderDelivered(order_id=self.order_id, version=self.version))
        return True

    def pull_events(self) -> list[Event]:
        """The recorded events, oldest first; the aggregate forgets them."""
        events, self.events = self.events, []
        return events

    def _move(self, action: str, now: datetime, reason: str) -> bool:
        sources, target = TRANSITIONS[action]
        if self.status is target:
            return False
        if self.status not in sources:
            allowed = " or ".join(sorted(s.value for s in sources))
            raise TransitionNotAllowed(self.order_id, action, self.status.value, f"only from {allowed}")
        self.status = target
        self.version += 1
        self.updated_at = now
        self.history.append(StatusChange(target, now, reason))
        return True

    def _placed_event(self) -> OrderPlaced:
        return OrderPlaced(
            order_id=self.order_id,
            customer=self.customer,
            shipping_address=self.shipping_address,
            lines=[
                OrderLineData(
                    book_id=line.book_id, title=line.title, quantity=line.quantity, unit_price=line.unit_price
                )
                for line in self.lines
            ],
            total=self.total,
            version=self.version,
        )
