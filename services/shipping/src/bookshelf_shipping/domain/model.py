"""The Shipment aggregate (one per order) and the Refusal kept when an order gets no shipment.

Aggregates never publish: they append contract events to ``events``; the unit of work hands them to
the outbox in the transaction that stores the change.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bookshelf_contracts import (
    Address,
    DeliveryAddress,
    Event,
    ShipmentCancelled,
    ShipmentCreated,
    ShipmentDelivered,
    ShipmentDispatched,
    ShipmentFailed,
    StockLine,
)

from bookshelf_shipping.domain.exceptions import InvalidTransition, Undeliverable
from bookshelf_shipping.domain.rules import ServedCountries, check_tracking_number, undeliverable_reasons

REASON_MAX = 1000  # the contracts' Reason limit


class ShipmentStatus(StrEnum):
    """Where a shipment is in its life."""

    CREATED = "CREATED"
    DISPATCHED = "DISPATCHED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"


# action -> (statuses it may start from, status it leads to). Anything else is a conflict, except
# repeating the move already made (the shipment is at the target), which is an idempotent no-op.
TRANSITIONS: dict[str, tuple[frozenset[ShipmentStatus], ShipmentStatus]] = {
    "dispatch": (frozenset({ShipmentStatus.CREATED}), ShipmentStatus.DISPATCHED),
    "deliver": (frozenset({ShipmentStatus.DISPATCHED}), ShipmentStatus.DELIVERED),
    "cancel": (frozenset({ShipmentStatus.CREATED}), ShipmentStatus.CANCELLED),
}


@dataclass(frozen=True)
class HistoryEntry:
    """A status the shipment reached, when, and why (cancellations carry a reason)."""

    status: ShipmentStatus
    at: datetime
    reason: str | None = None


def bounded(reason: str) -> str:
    """``reason`` cut to the contracts' 1000-character limit."""
    return reason if len(reason) <= REASON_MAX else reason[: REASON_MAX - 3] + "..."


def _full_address(address: Address | DeliveryAddress) -> Address:
    # Only called once the rules passed: the street is not blank, so the order's Address holds it.
    return address if isinstance(address, Address) else Address.model_validate(address.model_dump())


@dataclass(eq=False)
class Shipment:
    """An order's shipment (docs/domain.md "Shipping"); ``version`` counts its changes from 1."""

    shipment_id: uuid.UUID
    order_id: uuid.UUID
    tracking_number: str
    address: Address
    lines: list[StockLine]
    status: ShipmentStatus = ShipmentStatus.CREATED
    version: int = 1
    history: list[HistoryEntry] = field(default_factory=list)
    events: list[Event] = field(default_factory=list, repr=False)

    @classmethod
    def create(
        cls,
        order_id: uuid.UUID,
        address: Address | DeliveryAddress,
        lines: Sequence[StockLine],
        *,
        served: ServedCountries,
        tracking_number: str,
        at: datetime,
        shipment_id: uuid.UUID | None = None,
    ) -> Shipment:
        """A CREATED shipment recording ``ShipmentCreated``; raises Undeliverable naming each broken rule.

        The command's ``DeliveryAddress`` may carry a blank street (the rule refuses it); a kept
        shipment always holds a full ``Address``.
        """
        reasons = undeliverable_reasons(address, served)
        if reasons:
            raise Undeliverable(bounded("; ".join(reasons)))
        shipment = cls(
            shipment_id=shipment_id or uuid.uuid4(),
            order_id=order_id,
            tracking_number=check_tracking_number(tracking_number),
            address=_full_address(address),
            lines=list(lines),
            history=[HistoryEntry(ShipmentStatus.CREATED, at)],
        )
        shipment.events.append(shipment.created_event())
        return shipment

    def created_event(self) -> ShipmentCreated:
        """The ``ShipmentCreated`` of this shipment (version 1), also used to answer a repeated create."""
        return ShipmentCreated(
            shipment_id=self.shipment_id,
            order_id=self.order_id,
            tracking_number=self.tracking_number,
            version=1,
        )

    def dispatch(self, at: datetime) -> bool:
        """CREATED -> DISPATCHED (records ``ShipmentDispatched``); False when already DISPATCHED."""
        if not self._move("dispatch", at):
            return False
        self.events.append(
            ShipmentDispatched(
                shipment_id=self.shipment_id,
                order_id=self.order_id,
                tracking_number=self.tracking_number,
                version=self.version,
            )
        )
        return True

    def deliver(self, at: datetime) -> bool:
        """DISPATCHED -> DELIVERED (records ``ShipmentDelivered``); False when already DELIVERED."""
        if not self._move("deliver", at):
            return False
        self.events.append(
            ShipmentDelivered(shipment_id=self.shipment_id, order_id=self.order_id, version=self.version)
        )
        return True

    def cancel(self, reason: str, at: datetime) -> bool:
        """CREATED -> CANCELLED (records ``ShipmentCancelled``); False when already CANCELLED."""
        reason = bounded(reason)
        if not self._move("cancel", at, reason):
            return False
        self.events.append(
            ShipmentCancelled(
                shipment_id=self.shipment_id, order_id=self.order_id, reason=reason, version=self.version
            )
        )
        return True

    def _move(self, action: str, at: datetime, reason: str | None = None) -> bool:
        allowed_from, target = TRANSITIONS[action]
        if self.status == target:
            return False
        if self.status not in allowed_from:
            raise InvalidTransition(self.shipment_id, action, self.status, allowed_from)
        self.status = target
        self.version += 1
        self.history.append(HistoryEntry(target, at, reason))
        return True

    def pull_events(self) -> list[Event]:
        """The recorded events, removed from the aggregate (the unit of work takes them once)."""
        taken, self.events = self.events, []
        return taken


class RefusalKind(StrEnum):
    """Why an order has no shipment."""

    UNDELIVERABLE = "UNDELIVERABLE"
    CANCELLED_BEFORE_CREATION = "CANCELLED_BEFORE_CREATION"


@dataclass(frozen=True)
class Refusal:
    """An order that gets no shipment, kept so a repeated CreateShipment answers the same failure."""

    order_id: uuid.UUID
    kind: RefusalKind
    reason: str
    at: datetime

    def failed_event(self) -> ShipmentFailed:
        """The ``ShipmentFailed`` answer to a CreateShipment for this order."""
        return ShipmentFailed(order_id=self.order_id, reason=bounded(self.reason))
