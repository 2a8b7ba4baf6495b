"""Contract messages for the observatory's integration tests (a saga's worth, for one order)."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from bookshelf_contracts import (
    Address,
    ConfirmOrder,
    CreateShipment,
    Customer,
    Money,
    OrderLineData,
    OrderPlaced,
    ReserveStock,
    StockLine,
    StockReserved,
)

ADDRESS = Address(street="1 Main St", city="Springfield", zip_code="12345", country="US")


def order_placed(order_id: UUID, book_id: UUID) -> OrderPlaced:
    price = Money(amount=Decimal("9.99"), currency="USD")
    line = OrderLineData(book_id=book_id, title="Dune", quantity=1, unit_price=price)
    return OrderPlaced(
        order_id=order_id,
        customer=Customer(name="Ann Reader", email="ann@example.com"),
        shipping_address=ADDRESS,
        lines=[line],
        total=price,
        version=1,
    )


def reserve_stock(order_id: UUID, book_id: UUID) -> ReserveStock:
    return ReserveStock(order_id=order_id, lines=[StockLine(book_id=book_id, quantity=1)])


def stock_reserved(order_id: UUID, book_id: UUID) -> StockReserved:
    return StockReserved(order_id=order_id, lines=[StockLine(book_id=book_id, quantity=1)])


def confirm_order(order_id: UUID) -> ConfirmOrder:
    return ConfirmOrder(order_id=order_id)


def create_shipment(order_id: UUID, book_id: UUID) -> CreateShipment:
    return CreateShipment(order_id=order_id, address=ADDRESS, lines=[StockLine(book_id=book_id, quantity=1)])
