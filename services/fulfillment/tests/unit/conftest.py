"""A driver that feeds contract messages to the pure saga, one order at a time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import bookshelf_contracts as c
import pytest
from bookshelf_fulfillment.domain.messages import DeadlinePassed, Incoming
from bookshelf_fulfillment.domain.saga import Decision, decide
from bookshelf_fulfillment.domain.state import SagaState, SagaStatus

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
TIMEOUT = timedelta(seconds=60)
TRACKING = "TRK-AB12CD34EF"
CORRELATION = "corr-e2e-1"


class SagaDriver:
    """One order's saga: builds its messages and folds them through ``decide``."""

    def __init__(self) -> None:
        self.order_id = uuid4()
        self.books = (uuid4(), uuid4())
        self.shipment_id = uuid4()
        self.state: SagaState | None = None
        self.now = T0

    # --- messages -------------------------------------------------------------------------------

    def placed(self, country: str = "US") -> c.OrderPlaced:
        price = c.Money(amount=Decimal("9.99"), currency=c.Currency.USD)
        lines = [
            c.OrderLineData(book_id=self.books[0], title="Dune", quantity=2, unit_price=price),
            c.OrderLineData(book_id=self.books[1], title="Emma", quantity=1, unit_price=price),
        ]
        address = c.Address(street="1 Main St", city="Springfield", zip_code="12345", country=country)
        customer = c.Customer(name="Ada", email="ada@example.com")
        total = c.Money(amount=Decimal("29.97"), currency=c.Currency.USD)
        return c.OrderPlaced(
            order_id=self.order_id,
            customer=customer,
            shipping_address=address,
            lines=lines,
            total=total,
            version=1,
        )

    def reserved(self) -> c.StockReserved:
        return c.StockReserved(order_id=self.order_id, lines=[c.StockLine(book_id=self.books[0], quantity=2)])

    def reservation_failed(self) -> c.StockReservationFailed:
        short = [c.ShortLine(book_id=self.books[0], requested=2, available=1)]
        return c.StockReservationFailed(order_id=self.order_id, short_lines=short)

    def created(self) -> c.ShipmentCreated:
        return c.ShipmentCreated(
            shipment_id=self.shipment_id, order_id=self.order_id, tracking_number=TRACKING, version=1
        )

    def shipment_failed(self, reason: str = "country AQ is not served") -> c.ShipmentFailed:
        return c.ShipmentFailed(order_id=self.order_id, reason=reason)

    def dispatched(self) -> c.ShipmentDispatched:
        return c.ShipmentDispatched(
            shipment_id=self.shipment_id, order_id=self.order_id, tracking_number=TRACKING, version=2
        )

    def delivered(self) -> c.ShipmentDelivered:
        return c.ShipmentDelivered(shipment_id=self.shipment_id, order_id=self.order_id, version=3)

    def cancelled(self, reason: str = "customer request") -> c.OrderCancelled:
        return c.OrderCancelled(order_id=self.order_id, reason=reason, previous_status="PENDING", version=2)

    def requested(self, reason: str = "customer request") -> c.OrderCancellationRequested:
        return c.OrderCancellationRequested(order_id=self.order_id, reason=reason, version=3)

    def shipment_cancelled(self) -> c.ShipmentCancelled:
        return c.ShipmentCancelled(
            shipment_id=self.shipment_id, order_id=self.order_id, reason="order cancelled", version=2
        )

    def deadline(self, deadline: datetime | None = None) -> DeadlinePassed:
        assert self.state is not None
        when = deadline or self.state.deadline
        assert when is not None
        return DeadlinePassed(order_id=self.order_id, deadline=when, state=self.state.state.value)

    # --- feeding --------------------------------------------------------------------------------

    def incoming(self, message: c.Message, message_id: str | None = None) -> Incoming:
        return Incoming(message_id or str(uuid4()), CORRELATION, message)

    def feed(self, message: c.Message | Incoming, *, after: timedelta = timedelta(seconds=1)) -> Decision:
        """Decide ``message`` against the current state ``after`` the previous one; keep the new state."""
        self.now += after
        incoming = message if isinstance(message, Incoming) else self.incoming(message)
        decision = decide(self.state, incoming, self.now, timeout=TIMEOUT)
        if decision.new_state is not None:
            self.state = decision.new_state
        return decision

    def advance_to(self, state: SagaStatus) -> SagaDriver:
        """Feed the happy path until the saga is in ``state`` (a non-final state or DELIVERED)."""
        path = [
            (SagaStatus.AWAITING_STOCK, self.placed),
            (SagaStatus.AWAITING_SHIPMENT, self.reserved),
            (SagaStatus.AWAITING_DISPATCH, self.created),
            (SagaStatus.SHIPPED, self.dispatched),
            (SagaStatus.DELIVERED, self.delivered),
        ]
        for reached, make in path:
            self.feed(make())
            if reached is state:
                return self
        raise AssertionError(f"{state} is not on the happy path")

    @staticmethod
    def types(decision: Decision) -> list[str]:
        """The types of a decision's commands, in order."""
        return [command.type for command in decision.commands]

    @property
    def current(self) -> SagaState:
        assert self.state is not None
        return self.state


@pytest.fixture
def saga() -> SagaDriver:
    return SagaDriver()
