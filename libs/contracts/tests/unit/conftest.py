"""One valid sample of every contract, for tests that must cover them all."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID, uuid4

import bookshelf_contracts as c
import pytest

BOOK = UUID("0b8f3c1e-1111-4c2a-9a53-0c6f1a1e0001")
ORDER = UUID("0b8f3c1e-2222-4c2a-9a53-0c6f1a1e0002")
SHIPMENT = UUID("0b8f3c1e-3333-4c2a-9a53-0c6f1a1e0003")
TRACKING = "TRK-AB12CD34EF"


def usd(amount: str) -> c.Money:
    return c.Money(amount=Decimal(amount), currency=c.Currency.USD)


def _book_state() -> dict[str, object]:
    return {
        "book_id": BOOK,
        "title": "Dune",
        "author": "Frank Herbert",
        "isbn": "9780441013593",
        "price": usd("12.99"),
        "description": "Spice.",
        "genre": c.Genre.FICTION,
        "tags": ["sf", "classic"],
        "page_count": 412,
        "publication_date": date(1965, 8, 1),
        "in_print": True,
    }


def build_samples() -> dict[str, c.Message]:
    lines = [c.StockLine(book_id=BOOK, quantity=2)]
    short = [c.ShortLine(book_id=BOOK, requested=5, available=1)]
    address = c.Address(street="1 Main St", city="Springfield", zip_code="12345")
    order_line = c.OrderLineData(book_id=BOOK, title="Dune", quantity=2, unit_price=usd("12.99"))
    messages: list[c.Message] = [
        c.BookAdded(**_book_state(), version=1),
        c.BookDetailsUpdated(**_book_state(), version=3),
        c.BookPriceUpdated(book_id=BOOK, old_price=usd("12.99"), new_price=usd("9.99"), version=2),
        c.SupplierPayloadReceived(
            payload_id=uuid4(),
            event_type="new_book_available",
            payload={"title": "Dune", "author": "Frank Herbert", "price": 12.99},
            received_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        ),
        c.StockRestocked(book_id=BOOK, quantity=5, on_hand=15, version=2),
        c.InventoryLevelChanged(book_id=BOOK, on_hand=15, reserved=2, available=13, version=3),
        c.StockReserved(order_id=ORDER, lines=lines),
        c.StockReservationFailed(order_id=ORDER, short_lines=short),
        c.StockReleased(order_id=ORDER, lines=lines),
        c.StockCommitted(order_id=ORDER, lines=lines),
        c.ReserveStock(order_id=ORDER, lines=lines),
        c.ReleaseStock(order_id=ORDER),
        c.CommitStock(order_id=ORDER),
        c.OrderPlaced(
            order_id=ORDER,
            customer=c.Customer(name="Ann Reader", email="ann@example.com"),
            shipping_address=address,
            lines=[order_line],
            total=order_line.line_total,
            version=1,
        ),
        c.OrderConfirmed(order_id=ORDER, version=2),
        c.OrderCancelled(order_id=ORDER, reason="customer request", previous_status="PENDING", version=2),
        c.OrderShipped(order_id=ORDER, tracking_number=TRACKING, version=3),
        c.OrderDelivered(order_id=ORDER, version=4),
        c.ConfirmOrder(order_id=ORDER),
        c.CancelOrder(order_id=ORDER, reason="out of stock", short_lines=short),
        c.MarkOrderShipped(order_id=ORDER, tracking_number=TRACKING),
        c.MarkOrderDelivered(order_id=ORDER),
        c.CreateShipment(order_id=ORDER, address=address, lines=lines),
        c.CancelShipment(order_id=ORDER, reason="timed out"),
        c.ShipmentCreated(shipment_id=SHIPMENT, order_id=ORDER, tracking_number=TRACKING, version=1),
        c.ShipmentFailed(order_id=ORDER, reason="country XX is not served"),
        c.ShipmentDispatched(shipment_id=SHIPMENT, order_id=ORDER, tracking_number=TRACKING, version=2),
        c.ShipmentDelivered(shipment_id=SHIPMENT, order_id=ORDER, version=3),
        c.ShipmentCancelled(shipment_id=SHIPMENT, order_id=ORDER, reason="order cancelled", version=2),
    ]
    return {message.TYPE: message for message in messages}


@pytest.fixture(scope="session")
def samples() -> dict[str, c.Message]:
    """type name -> a valid message of that type, for every registered contract."""
    return build_samples()
