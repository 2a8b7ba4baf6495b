"""The upcasters of every contract whose VERSION moved past 1, with the old shapes documented.

Each old shape is kept as a model (never registered for parsing, only exported as a schema
``<Type>.v<N>.json``), so the upcaster can validate old data and name the failing field.
"""

from __future__ import annotations

from typing import Annotated, ClassVar
from uuid import UUID

from pydantic import Field

from bookshelf_contracts.base import Command, Event, Message
from bookshelf_contracts.upcasting import Data, upcaster
from bookshelf_contracts.values import Address, AggregateVersion, Currency, StockLine


class BookPriceUpdatedV1(Event):
    """BookPriceUpdated v1 (superseded): amounts as strings plus a single currency for both."""

    TYPE: ClassVar[str] = "BookPriceUpdated"
    VERSION: ClassVar[int] = 1

    book_id: UUID
    old_amount: str
    new_amount: str
    currency: Currency
    version: AggregateVersion


@upcaster("BookPriceUpdated", from_version=1)
def book_price_updated_v1_to_v2(data: Data) -> Data:
    """v1 ``{old_amount, new_amount, currency}`` -> v2 ``{old_price: Money, new_price: Money}``."""
    old = BookPriceUpdatedV1.model_validate(data)
    return {
        "book_id": str(old.book_id),
        "old_price": {"amount": old.old_amount, "currency": old.currency.value},
        "new_price": {"amount": old.new_amount, "currency": old.currency.value},
        "version": old.version,
    }


class CreateShipmentV1(Command):
    """CreateShipment v1 (superseded): the order's ``Address``, which rejects a blank street."""

    TYPE: ClassVar[str] = "CreateShipment"
    VERSION: ClassVar[int] = 1

    order_id: UUID
    address: Address
    lines: Annotated[list[StockLine], Field(min_length=1)]


@upcaster("CreateShipment", from_version=1)
def create_shipment_v1_to_v2(data: Data) -> Data:
    """v1 -> v2: the same fields; v2's ``DeliveryAddress`` only accepts more, so the data passes as is.

    Deliberately not validated against ``CreateShipmentV1``: a v1 command with a blank street (from a
    producer not yet upgraded) must reach shipping's deliverability rule too, not die on the v1 rule.
    """
    return data


# Superseded shapes, exported as schemas next to the current ones.
LEGACY_CONTRACTS: tuple[type[Message], ...] = (BookPriceUpdatedV1, CreateShipmentV1)
