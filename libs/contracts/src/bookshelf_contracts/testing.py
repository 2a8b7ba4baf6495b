"""Helpers for tests of every package: ``usd()`` and one valid sample of each contract.

``samples()`` must hold a message of every registered type (a unit test of this package checks it),
so a new contract gets its sample here, where every consumer's tests can use it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from bookshelf_contracts import catalog, inventory, ordering, shipping, supplier
from bookshelf_contracts.base import Message
from bookshelf_contracts.values import (
    Address,
    Currency,
    Customer,
    Genre,
    Money,
    OrderLineData,
    ShortLine,
    StockLine,
)

__all__ = ["BOOK", "ORDER", "SHIPMENT", "TRACKING", "sample", "samples", "usd"]

BOOK = UUID("0b8f3c1e-1111-4c2a-9a53-0c6f1a1e0001")
ORDER = UUID("0b8f3c1e-2222-4c2a-9a53-0c6f1a1e0002")
SHIPMENT = UUID("0b8f3c1e-3333-4c2a-9a53-0c6f1a1e0003")
PAYLOAD = UUID("0b8f3c1e-4444-4c2a-9a53-0c6f1a1e0004")
TRACKING = "TRK-AB12CD34EF"


def usd(amount: str) -> Money:
    """``amount`` US dollars (``usd("12.99")``)."""
    return Money(amount=Decimal(amount), currency=Currency.USD)


def _book_state() -> dict[str, Any]:
    return {
        "book_id": BOOK,
        "title": "Dune",
        "author": "Frank Herbert",
        "isbn": "9780441013593",
        "price": usd("12.99"),
        "description": "Spice.",
        "genre": Genre.FICTION,
        "tags": ["sf", "classic"],
        "page_count": 412,
        "publication_date": date(1965, 8, 1),
        "in_print": True,
    }


def _catalog() -> list[Message]:
    return [
        catalog.BookAdded(**_book_state(), version=1),
        catalog.BookDetailsUpdated(**_book_state(), version=3),
        catalog.BookPriceUpdated(book_id=BOOK, old_price=usd("12.99"), new_price=usd("9.99"), version=2),
        supplier.SupplierPayloadReceived(
            payload_id=PAYLOAD,
            event_type="new_book_available",
            payload={"title": "Dune", "author": "Frank Herbert", "price": 12.99},
            received_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        ),
    ]


def _inventory() -> list[Message]:
    lines = [StockLine(book_id=BOOK, quantity=2)]
    short = [ShortLine(book_id=BOOK, requested=5, available=1)]
    return [
        inventory.StockRestocked(book_id=BOOK, quantity=5, on_hand=15, version=2),
        inventory.InventoryLevelChanged(book_id=BOOK, on_hand=15, reserved=2, available=13, version=3),
        inventory.StockReserved(order_id=ORDER, lines=lines),
        inventory.StockReservationFailed(order_id=ORDER, short_lines=short),
        inventory.StockReleased(order_id=ORDER, lines=lines),
        inventory.StockCommitted(order_id=ORDER, lines=lines),
        inventory.ReserveStock(order_id=ORDER, lines=lines),
        inventory.ReleaseStock(order_id=ORDER),
        inventory.CommitStock(order_id=ORDER),
    ]


def _ordering() -> list[Message]:
    short = [ShortLine(book_id=BOOK, requested=5, available=1)]
    address = Address(street="1 Main St", city="Springfield", zip_code="12345")
    line = OrderLineData(book_id=BOOK, title="Dune", quantity=2, unit_price=usd("12.99"))
    return [
        ordering.OrderPlaced(
            order_id=ORDER,
            customer=Customer(name="Ann Reader", email="ann@example.com"),
            shipping_address=address,
            lines=[line],
            total=line.line_total,
            version=1,
        ),
        ordering.OrderConfirmed(order_id=ORDER, version=2),
        ordering.OrderCancellationRequested(order_id=ORDER, reason="customer request", version=2),
        ordering.OrderCancelled(
            order_id=ORDER, reason="customer request", previous_status="PENDING", version=2
        ),
        ordering.OrderShipped(order_id=ORDER, tracking_number=TRACKING, version=3),
        ordering.OrderDelivered(order_id=ORDER, version=4),
        ordering.ConfirmOrder(order_id=ORDER),
        ordering.CancelOrder(order_id=ORDER, reason="out of stock", short_lines=short),
        ordering.MarkOrderShipped(order_id=ORDER, tracking_number=TRACKING),
        ordering.MarkOrderDelivered(order_id=ORDER),
    ]


def _shipping() -> list[Message]:
    lines = [StockLine(book_id=BOOK, quantity=2)]
    address = Address(street="1 Main St", city="Springfield", zip_code="12345")
    return [
        shipping.CreateShipment(order_id=ORDER, address=address, lines=lines),
        shipping.CancelShipment(order_id=ORDER, reason="timed out"),
        shipping.ShipmentCreated(shipment_id=SHIPMENT, order_id=ORDER, tracking_number=TRACKING, version=1),
        shipping.ShipmentFailed(order_id=ORDER, reason="country XX is not served"),
        shipping.ShipmentDispatched(
            shipment_id=SHIPMENT, order_id=ORDER, tracking_number=TRACKING, version=2
        ),
        shipping.ShipmentDelivered(shipment_id=SHIPMENT, order_id=ORDER, version=3),
        shipping.ShipmentCancelled(shipment_id=SHIPMENT, order_id=ORDER, reason="order cancelled", version=2),
    ]


def samples() -> dict[str, Message]:
    """Type name -> a valid message of that type, for every registered contract (fresh objects)."""
    messages = [*_catalog(), *_inventory(), *_ordering(), *_shipping()]
    return {message.TYPE: message for message in messages}


def sample(message_type: type[Message] | str) -> Message:
    """The sample of one contract (by class or type name)."""
    return samples()[message_type if isinstance(message_type, str) else message_type.TYPE]
