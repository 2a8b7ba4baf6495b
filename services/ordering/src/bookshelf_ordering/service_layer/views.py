"""The order as docs/reference/http.md shows it, as plain JSON values.

Plain strings for times, ids and amounts (not datetime/Decimal objects), because the same dict is
stored as an Idempotency-Key answer in JSONB and must replay exactly as it was first sent.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bookshelf_contracts import Money

from bookshelf_ordering.domain.model import Order


def iso(moment: datetime) -> str:
    """ISO-8601 UTC with microseconds and ``Z`` (the precision PostgreSQL stores)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def money_json(money: Money) -> dict[str, str]:
    """``{"amount": "12.99", "currency": "USD"}``."""
    return {"amount": format(money.amount, "f"), "currency": money.currency.value}


def order_json(order: Order) -> dict[str, Any]:
    """The order of docs/reference/http.md: ``{"order_id", "status", "customer", "items", "total", ...}``."""
    address = order.shipping_address
    return {
        "order_id": str(order.order_id),
        "status": order.status.value,
        "customer": {"name": order.customer.name, "email": order.customer.email},
        "shipping_address": {
            "street": address.street,
            "city": address.city,
            "state": address.state,
            "zip_code": address.zip_code,
            "country": address.country,
        },
        "items": [
            {
                "book_id": str(line.book_id),
                "title": line.title,
                "quantity": line.quantity,
                "unit_price": money_json(line.unit_price),
                "line_total": money_json(line.line_total),
            }
            for line in order.lines
        ],
        "total": money_json(order.total),
        "tracking_number": order.tracking_number,
        "cancellation_reason": order.cancellation_reason,
        "history": [
            {"status": entry.status.value, "at": iso(entry.at), "reason": entry.reason}
            for entry in order.history
        ],
        "created_at": iso(order.created_at),
        "updated_at": iso(order.updated_at),
    }
