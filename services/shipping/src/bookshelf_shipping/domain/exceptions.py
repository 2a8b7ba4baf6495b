"""What can go wrong in the shipping domain; each message names the rule and the value that broke it."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID


class ShippingError(Exception):
    """Base of every shipping domain error."""


class Undeliverable(ShippingError):
    """The address breaks a deliverability rule; ``reason`` names each rule and value."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ShipmentNotFound(ShippingError):
    """No shipment has this id."""

    def __init__(self, shipment_id: UUID) -> None:
        super().__init__(f"shipment {shipment_id} does not exist")
        self.shipment_id = shipment_id


class InvalidTransition(ShippingError):
    """The status machine does not allow this action from the shipment's current status."""

    def __init__(self, shipment_id: UUID, action: str, status: str, allowed_from: Iterable[str]) -> None:
        self.shipment_id = shipment_id
        self.action = action
        self.status = status
        self.needs = " or ".join(sorted(allowed_from))
        super().__init__(self.describe())

    def describe(self) -> str:
        """The message: action, shipment, current status and the status the action needs."""
        return (
            f"cannot {self.action} shipment {self.shipment_id}: its status is {self.status}; "
            f"{self.action} needs {self.needs}"
        )


class TransitionAlreadyMade(InvalidTransition):
    """The shipment already made this transition (a strict caller treats the repeat as a conflict)."""

    def describe(self) -> str:
        """The message: the shipment is already where the action leads; nothing changed."""
        return (
            f"shipment {self.shipment_id} is already {self.status}; {self.action} needs {self.needs} "
            "(nothing was changed)"
        )


class InvalidTrackingNumber(ShippingError, ValueError):
    """A tracking number that is not ``TRK-`` plus 10 upper-case letters or digits."""


class TrackingNumberTaken(ShippingError):
    """Another shipment already carries this tracking number (the caller draws a new one)."""

    def __init__(self, tracking_number: str) -> None:
        super().__init__(f"tracking number {tracking_number} is already taken")
        self.tracking_number = tracking_number
