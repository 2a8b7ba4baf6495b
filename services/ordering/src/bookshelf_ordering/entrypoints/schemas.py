"""HTTP request and response shapes (strict: unknown fields are rejected and named)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from bookshelf_contracts import Address, Customer
from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator

from bookshelf_ordering.domain.placement import MAX_LINES, MAX_QUANTITY, RequestedLine
from bookshelf_ordering.service_layer.handlers import PlaceOrder

STRICT = ConfigDict(extra="forbid")


class CustomerIn(Customer):
    """The customer of a new order: name 1-150 characters, a syntactically valid e-mail address."""

    @field_validator("email")
    @classmethod
    def _syntax(cls, value: str) -> str:
        try:
            validate_email(value, check_deliverability=False)
        except EmailNotValidError as exc:
            raise ValueError(f"{value!r} is not a valid e-mail address: {exc}") from None
        return value


class ItemIn(BaseModel):
    """One requested line: a book of the catalog and 1-100 copies."""

    model_config = STRICT

    book_id: UUID
    quantity: Annotated[StrictInt, Field(ge=1, le=MAX_QUANTITY)]


class PlaceOrderIn(BaseModel):
    """``POST /orders``: the customer, where to ship, and 1-50 lines (same books are merged)."""

    model_config = STRICT

    customer: CustomerIn
    shipping_address: Address
    items: Annotated[list[ItemIn], Field(min_length=1, max_length=MAX_LINES)]

    def to_command(self) -> PlaceOrder:
        """The PlaceOrder command of this request."""
        return PlaceOrder(
            customer=Customer(name=self.customer.name, email=self.customer.email),
            shipping_address=self.shipping_address,
            items=tuple(RequestedLine(item.book_id, item.quantity) for item in self.items),
        )


class MoneyOut(BaseModel):
    """An amount as a decimal string and its currency."""

    amount: str = Field(examples=["12.99"])
    currency: str = Field(examples=["USD"])


class OrderItemOut(BaseModel):
    """A priced line of an order."""

    book_id: UUID
    title: str
    quantity: int
    unit_price: MoneyOut
    line_total: MoneyOut


class HistoryOut(BaseModel):
    """One status change."""

    status: str
    at: str
    reason: str | None


class OrderOut(BaseModel):
    """An order (docs/reference/http.md)."""

    order_id: UUID
    status: str
    customer: Customer
    shipping_address: Address
    items: list[OrderItemOut]
    total: MoneyOut
    tracking_number: str | None
    cancellation_reason: str | None
    history: list[HistoryOut]
    created_at: str
    updated_at: str


class OrderPageOut(BaseModel):
    """A page of orders (the paging envelope of docs/reference/http.md)."""

    entries: list[OrderOut]
    total: int
    limit: int
    offset: int
    page: int
    total_pages: int
    has_next: bool
    has_prev: bool
