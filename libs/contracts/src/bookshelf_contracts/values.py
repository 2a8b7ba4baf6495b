"""Value objects on the wire (docs/domain.md "Value objects") and shared field types."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from bookshelf_contracts.base import CONTRACT_CONFIG
from bookshelf_contracts.errors import CurrencyMismatch

_CENT = Decimal("0.01")
AMOUNT_PATTERN = r"^\d+\.\d{2}$"


class Currency(StrEnum):
    """ISO 4217 currencies Bookshelf sells in."""

    USD = "USD"
    EUR = "EUR"
    GBP = "GBP"


class Genre(StrEnum):
    """Book genres of the catalog."""

    FICTION = "FICTION"
    NON_FICTION = "NON_FICTION"
    SCIENCE = "SCIENCE"
    HISTORY = "HISTORY"
    BIOGRAPHY = "BIOGRAPHY"
    FANTASY = "FANTASY"
    MYSTERY = "MYSTERY"


def _to_cents(value: Decimal) -> Decimal:
    # Normalise "12.9", "12.90" and 12.9 to Decimal("12.90") so equality and the wire form are stable.
    return value.quantize(_CENT)


def _amount_to_wire(value: Decimal) -> str:
    return format(value, "f")


# >= 0, at most 2 decimal places, at most 12 integer digits; a JSON string "12.99" on the wire.
Amount = Annotated[
    Decimal,
    Field(ge=0, decimal_places=2, max_digits=14, allow_inf_nan=False),
    AfterValidator(_to_cents),
    PlainSerializer(_amount_to_wire, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": AMOUNT_PATTERN}, mode="serialization"),
]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Author = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=150)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
Isbn13 = Annotated[str, StringConstraints(pattern=r"^\d{13}$")]
TrackingNumber = Annotated[str, StringConstraints(pattern=r"^TRK-[A-Z0-9]{10}$")]
Quantity = Annotated[int, Field(ge=1)]
Count = Annotated[int, Field(ge=0)]
AggregateVersion = Annotated[int, Field(ge=1, description="Aggregate version: 1, 2, 3 ... per aggregate")]


def _strip_upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _drop_blank_strings(data: Any) -> Any:
    """Treat whitespace-only strings as missing keys, so defaults apply and required fields say so."""
    if isinstance(data, dict):
        return {k: v for k, v in data.items() if not (isinstance(v, str) and not v.strip())}
    return data


class Money(BaseModel):
    """An amount (Decimal, >= 0, 2 places, wire string "12.99") in one currency."""

    model_config = CONTRACT_CONFIG

    amount: Amount
    currency: Currency

    @classmethod
    def zero(cls, currency: Currency | str) -> Money:
        """0.00 in ``currency``: the start value for sums."""
        return cls(amount=Decimal(0), currency=Currency(currency))

    def _check_currency(self, other: Money, op: str) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(
                f"cannot {op} Money in {self.currency.value} and {other.currency.value}: "
                "arithmetic needs equal currencies"
            )

    def __add__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._check_currency(other, "add")
        return Money(amount=self.amount + other.amount, currency=self.currency)

    def __mul__(self, factor: object) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, int):
            return NotImplemented
        if factor < 0:
            raise ValueError(f"Money can only be multiplied by an int >= 0, got {factor}")
        return Money(amount=self.amount * factor, currency=self.currency)

    __rmul__ = __mul__

    def __str__(self) -> str:
        return f"{_amount_to_wire(self.amount)} {self.currency.value}"


class Address(BaseModel):
    """A postal address; whitespace-only values count as missing."""

    model_config = CONTRACT_CONFIG

    street: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    city: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    state: Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)] = ""
    zip_code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
    country: Annotated[str, BeforeValidator(_strip_upper), StringConstraints(pattern=r"^[A-Z]{2}$")] = Field(
        default="US", description="ISO 3166-1 alpha-2, upper case"
    )

    _drop_blank = model_validator(mode="before")(_drop_blank_strings)


class DeliveryAddress(BaseModel):
    """Where a shipment goes: an ``Address`` whose street may be blank, for shipping's rule to judge.

    CreateShipment v2 carries it so a blank street reaches shipping's deliverability rule (answered
    with ShipmentFailed) instead of failing validation (a dead letter); see
    docs/adr/0007-create-shipment-v2-delivery-address.md. Every other field keeps the ``Address``
    rules; a blank street is stripped to ``""`` but still required as a key. An ``Address`` instance
    is accepted too (its fields are validated again), which is how the saga builds the command.
    """

    model_config = CONTRACT_CONFIG

    street: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
    city: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    state: Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)] = ""
    zip_code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
    country: Annotated[str, BeforeValidator(_strip_upper), StringConstraints(pattern=r"^[A-Z]{2}$")] = Field(
        default="US", description="ISO 3166-1 alpha-2, upper case"
    )

    @model_validator(mode="before")
    @classmethod
    def _from_address_keeping_the_street(cls, data: Any) -> Any:
        # As Address: whitespace-only values count as missing, except the street, which is kept
        # (blank) for shipping to refuse by rule.
        if isinstance(data, Address):
            data = data.model_dump()
        if not isinstance(data, dict):
            return data
        kept = _drop_blank_strings(data)
        if "street" in data:
            kept["street"] = data["street"]
        return kept


EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s.]+$"


class Customer(BaseModel):
    """The person who places an order."""

    model_config = CONTRACT_CONFIG

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=150)]
    email: Annotated[str, BeforeValidator(_strip), StringConstraints(max_length=254, pattern=EMAIL_PATTERN)]

    _drop_blank = model_validator(mode="before")(_drop_blank_strings)


class StockLine(BaseModel):
    """A quantity of one book (reservation, release, commit and shipment lines)."""

    model_config = CONTRACT_CONFIG

    book_id: UUID
    quantity: Quantity


class ShortLine(BaseModel):
    """A reservation line that could not be served: requested more than available."""

    model_config = CONTRACT_CONFIG

    book_id: UUID
    requested: Quantity
    available: Count


class OrderLineData(BaseModel):
    """An order line as placed: book, title and unit price from ordering's catalog replica."""

    model_config = CONTRACT_CONFIG

    book_id: UUID
    title: Title
    quantity: Quantity
    unit_price: Money

    @property
    def line_total(self) -> Money:
        """``quantity x unit_price``."""
        return self.unit_price * self.quantity
