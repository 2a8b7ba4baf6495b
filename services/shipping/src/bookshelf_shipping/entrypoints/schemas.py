"""Response bodies of the shipping API (docs/reference/http.md "shipping")."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from bookshelf_contracts import Address, StockLine
from pydantic import BaseModel

from bookshelf_shipping.domain.model import ShipmentStatus


class HistoryView(BaseModel):
    """A status the shipment reached, when, and why (cancellations)."""

    status: ShipmentStatus
    at: datetime
    reason: str | None = None


class ShipmentView(BaseModel):
    """A shipment: its order, status, tracking number, address, lines and status history."""

    shipment_id: UUID
    order_id: UUID
    status: ShipmentStatus
    tracking_number: str
    address: Address
    lines: list[StockLine]
    history: list[HistoryView]
    version: int
    created_at: datetime
    updated_at: datetime
