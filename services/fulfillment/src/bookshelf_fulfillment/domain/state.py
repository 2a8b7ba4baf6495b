"""The state of one saga instance (one per order): a ``fulfillments`` row with its history rows."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Self
from uuid import UUID

from bookshelf_contracts import Address, StockLine
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict

# A saga lives for a handful of messages; the cap only guards against a replay loop growing the
# in-memory instance without bound (the history table keeps every row). Dedup needs the ids of handled
# messages, so the oldest *ignored* entries go first.
MAX_HISTORY = 200


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]


class SagaStatus(StrEnum):
    """The states of docs/domain.md's saga table."""

    AWAITING_STOCK = "AWAITING_STOCK"
    AWAITING_SHIPMENT = "AWAITING_SHIPMENT"
    AWAITING_DISPATCH = "AWAITING_DISPATCH"
    CANCELLING = "CANCELLING"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"

    @property
    def is_final(self) -> bool:
        """DELIVERED and CANCELLED end the saga."""
        return self in (SagaStatus.DELIVERED, SagaStatus.CANCELLED)

    @property
    def has_deadline(self) -> bool:
        """Only AWAITING_STOCK and AWAITING_SHIPMENT are bounded by ``FULFILLMENT_TIMEOUT_S``."""
        return self in (SagaStatus.AWAITING_STOCK, SagaStatus.AWAITING_SHIPMENT)


AWAITING = (SagaStatus.AWAITING_STOCK, SagaStatus.AWAITING_SHIPMENT, SagaStatus.AWAITING_DISPATCH)


class HistoryEntry(BaseModel):
    """One handled message: its id and type, when it was handled and what the saga did about it."""

    model_config = ConfigDict(frozen=True)

    message_id: str
    event: str
    at: UtcDatetime
    action: str

    @property
    def ignored(self) -> bool:
        """True for messages recorded without any effect."""
        return self.action.startswith("ignored")


class SagaState(BaseModel):
    """Everything the saga knows about one order.

    ``reserve_requested`` / ``shipment_requested`` say a ReserveStock / CreateShipment was sent;
    ``reserved`` / ``shipment_id`` say inventory / shipping confirmed it. Compensation keys off the
    *requested* facts: a command already sent may still be applied after the saga gave up.
    """

    model_config = ConfigDict(frozen=True)

    order_id: UUID
    state: SagaStatus
    correlation_id: str
    lines: tuple[StockLine, ...]
    address: Address
    reserve_requested: bool = False
    reserved: bool = False
    shipment_requested: bool = False
    shipment_id: UUID | None = None
    tracking_number: str | None = None
    cancel_reason: str | None = None
    deadline: UtcDatetime | None = None
    deadline_set_by: str | None = None
    created_at: UtcDatetime
    updated_at: UtcDatetime
    history: tuple[HistoryEntry, ...] = ()

    def has_handled(self, message_id: str) -> bool:
        """Whether a message with this id is already in the history."""
        return any(entry.message_id == message_id for entry in self.history)

    def recorded(self, entry: HistoryEntry) -> Self:
        """A copy with ``entry`` appended to the history (capped at ``MAX_HISTORY``)."""
        history = (*self.history, entry)
        while len(history) > MAX_HISTORY:
            drop = next((i for i, e in enumerate(history) if e.ignored), 0)
            history = history[:drop] + history[drop + 1 :]
        return self.model_copy(update={"history": history})
