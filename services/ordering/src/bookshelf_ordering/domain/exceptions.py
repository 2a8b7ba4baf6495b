"""Domain errors of ordering; each names the rule and the value that broke it."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID


class OrderingError(Exception):
    """Base class of every ordering domain error."""


class InvalidOrder(OrderingError, ValueError):
    """An order that breaks a rule of docs/domain.md; ``errors`` holds ``(field, message)`` pairs."""

    def __init__(self, errors: Sequence[tuple[str, str]]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(f"{field}: {message}" for field, message in self.errors))


class OrderNotFound(OrderingError, LookupError):
    """No order has this id."""

    def __init__(self, order_id: UUID) -> None:
        super().__init__(f"no order with id {order_id}")
        self.order_id = order_id


class TransitionNotAllowed(OrderingError):
    """The status machine does not allow this transition from the order's current status."""

    def __init__(self, order_id: UUID, action: str, status: str, detail: str = "") -> None:
        message = f"cannot {action} order {order_id}: it is {status}"
        super().__init__(f"{message} ({detail})" if detail else message)
        self.order_id = order_id
        self.action = action
        self.status = status
