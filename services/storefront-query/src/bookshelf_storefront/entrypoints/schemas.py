"""Response bodies of the storefront-query API (docs/reference/http.md "storefront-query (8005)")."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from bookshelf_contracts import Money
from pydantic import BaseModel


class StorefrontEntry(BaseModel):
    """StorefrontView: a book as the shop lists it, with availability."""

    book_id: UUID
    title: str
    author: str
    isbn: str | None = None
    genre: str | None = None
    price: Money | None = None
    available: int
    in_stock: bool
    updated_at: datetime


class CatalogEntry(BaseModel):
    """BookCatalog: a book's identity and price."""

    book_id: UUID
    title: str
    author: str
    isbn: str | None = None
    price: Money | None = None


class ReportEntry(BaseModel):
    """BookReport: the latest full book state plus price changes, units sold and revenue.

    ``revenue`` is in the book's price currency; ``revenue_by_currency`` has every currency sold in.
    """

    book_id: UUID
    title: str
    author: str
    isbn: str | None = None
    genre: str | None = None
    description: str | None = None
    tags: list[str] = []
    page_count: int | None = None
    publication_date: date | None = None
    in_print: bool | None = None
    price: Money | None = None
    price_changes: int
    units_sold: int
    revenue: Money | None = None
    revenue_by_currency: list[Money] = []
    updated_at: datetime


class TrackingStep(BaseModel):
    """One step of an order: the order's (``source`` order) or its shipment's (``shipment``) status."""

    at: datetime
    source: str
    event: str
    status: str
    reason: str | None = None


class TrackingEntry(BaseModel):
    """OrderTracking: status, customer email, total, tracking number and history of one order."""

    order_id: UUID
    status: str
    customer_email: str | None = None
    total: Money | None = None
    tracking_number: str | None = None
    shipment_status: str | None = None
    history: list[TrackingStep]
    updated_at: datetime
