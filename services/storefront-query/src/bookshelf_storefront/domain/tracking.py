"""OrderTracking: an order's status, customer email, total, tracking number and history (pure).

Ordering and shipping events each carry their aggregate's version: the status of each side follows
the highest version seen, so a replayed or late event never regresses it. History keeps one entry
per (source, event, version), whatever order the events arrive in and however often; entries are
sorted by time, so a rebuild from the topics ends with the same history.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from bookshelf_contracts import (
    Message,
    OrderPlaced,
    OrderShipped,
    ShipmentCreated,
    ShipmentDispatched,
    ShipmentFailed,
)

ORDER_STATUS = {
    "OrderPlaced": "PENDING",
    "OrderConfirmed": "CONFIRMED",
    "OrderCancelled": "CANCELLED",
    "OrderShipped": "SHIPPED",
    "OrderDelivered": "DELIVERED",
}
SHIPMENT_STATUS = {
    "ShipmentCreated": "CREATED",
    "ShipmentDispatched": "DISPATCHED",
    "ShipmentDelivered": "DELIVERED",
    "ShipmentCancelled": "CANCELLED",
    "ShipmentFailed": "FAILED",
}
ORDER, SHIPMENT = "order", "shipment"


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One step: when, which side (``order``/``shipment``), which event, the status it led to, why."""

    at: datetime
    source: str
    event: str
    status: str
    reason: str | None = None
    version: int | None = None

    @property
    def key(self) -> tuple[str, str, int | None]:
        """Identity of the step: a redelivered or republished event has the same key."""
        return (self.source, self.event, self.version)

    def to_json(self) -> dict[str, Any]:
        """JSON form kept in the tracking table (``at`` as ISO-8601)."""
        return {
            "at": self.at.isoformat(),
            "source": self.source,
            "event": self.event,
            "status": self.status,
            "reason": self.reason,
            "version": self.version,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HistoryEntry:
        """Inverse of ``to_json``."""
        return cls(
            at=datetime.fromisoformat(data["at"]),
            source=data["source"],
            event=data["event"],
            status=data["status"],
            reason=data.get("reason"),
            version=data.get("version"),
        )


@dataclass(frozen=True, slots=True)
class Tracking:
    """The tracking row of one order (``status`` stays None until an ordering event arrives)."""

    status: str | None = None
    customer_email: str | None = None
    total_amount: Decimal | None = None
    total_currency: str | None = None
    tracking_number: str | None = None
    shipment_status: str | None = None
    order_version: int = 0
    shipment_version: int = 0
    history: tuple[HistoryEntry, ...] = ()
    updated_at: datetime | None = None


def _entry(message: Message, at: datetime) -> HistoryEntry | None:
    name = message.TYPE
    version = getattr(message, "version", None)
    reason = getattr(message, "reason", None)
    if name in ORDER_STATUS:
        return HistoryEntry(at, ORDER, name, ORDER_STATUS[name], reason, version)
    if name in SHIPMENT_STATUS:
        return HistoryEntry(at, SHIPMENT, name, SHIPMENT_STATUS[name], reason, version)
    return None


def _merge(history: tuple[HistoryEntry, ...], entry: HistoryEntry) -> tuple[HistoryEntry, ...]:
    if any(existing.key == entry.key for existing in history):
        return history
    return tuple(sorted((*history, entry), key=lambda e: (e.at, e.source, e.version or 0, e.event)))


def _order_side(state: Tracking, message: Message, entry: HistoryEntry) -> Tracking:
    if isinstance(message, OrderPlaced) and state.customer_email is None:
        state = replace(
            state,
            customer_email=message.customer.email,
            total_amount=message.total.amount,
            total_currency=message.total.currency.value,
        )
    if isinstance(message, OrderShipped) and state.tracking_number is None:
        state = replace(state, tracking_number=message.tracking_number)
    if entry.version is not None and entry.version > state.order_version:
        state = replace(state, status=entry.status, order_version=entry.version)
    return state


def _shipment_side(state: Tracking, message: Message, entry: HistoryEntry) -> Tracking:
    if isinstance(message, ShipmentCreated | ShipmentDispatched):
        state = replace(state, tracking_number=message.tracking_number)
    if isinstance(message, ShipmentFailed):
        # No shipment exists (and no version): only says so while nothing better is known.
        return state if state.shipment_version else replace(state, shipment_status=entry.status)
    if entry.version is not None and entry.version > state.shipment_version:
        state = replace(state, shipment_status=entry.status, shipment_version=entry.version)
    return state


def apply(state: Tracking, message: Message, at: datetime) -> Tracking:
    """The tracking row after ``message`` (an ordering or shipping event) that happened ``at``."""
    entry = _entry(message, at)
    if entry is None:
        return state
    merged = _merge(state.history, entry)
    if merged is state.history:
        return state  # the same step again: nothing new to learn
    updated_at = at if state.updated_at is None else max(state.updated_at, at)
    state = replace(state, history=merged, updated_at=updated_at)
    if entry.source == ORDER:
        return _order_side(state, message, entry)
    return _shipment_side(state, message, entry)
