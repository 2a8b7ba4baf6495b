"""Rows <-> Order aggregates: the one SELECT shape every order read uses, and the row mapper."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson
import sqlalchemy as sa
from bookshelf_contracts import Address, Currency, Customer, Money
from sqlalchemy.dialects.postgresql import aggregate_order_by

from bookshelf_ordering.adapters.orm import order_lines, orders
from bookshelf_ordering.domain.model import Order, OrderStatus, StatusChange
from bookshelf_ordering.domain.placement import OrderLine


def _lines_subquery() -> Any:
    lines = order_lines.alias("l")
    # unit_amount as text: JSON numbers would come back as floats.
    item = sa.func.json_build_array(
        lines.c.book_id, lines.c.title, lines.c.quantity, sa.cast(lines.c.unit_amount, sa.Text)
    )
    aggregated = sa.func.json_agg(aggregate_order_by(item, lines.c.line_no))
    return (
        sa.select(sa.func.coalesce(aggregated, sa.literal_column("'[]'::json")))
        .where(lines.c.order_id == orders.c.order_id)
        .scalar_subquery()
        .label("lines")
    )


def select_orders() -> sa.Select[Any]:
    """``SELECT orders.*, <lines as JSON>``: one round trip per order or page of orders."""
    return sa.select(orders, _lines_subquery())


def _json(value: Any) -> Any:
    # The asyncpg codec decodes json/jsonb already; plain strings only show up without it.
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def order_from_row(row: Mapping[str, Any]) -> Order:
    """The aggregate from a ``select_orders()`` row (the stored data was validated when written)."""
    currency = Currency(row["currency"])
    lines = tuple(
        OrderLine(UUID(book_id), title, int(quantity), Money(amount=Decimal(amount), currency=currency))
        for book_id, title, quantity, amount in _json(row["lines"])
    )
    history = [
        StatusChange(OrderStatus(entry["status"]), datetime.fromisoformat(entry["at"]), entry["reason"])
        for entry in _json(row["history"])
    ]
    return Order(
        order_id=row["order_id"],
        customer=Customer.model_construct(name=row["customer_name"], email=row["customer_email"]),
        shipping_address=Address.model_construct(**_json(row["shipping_address"])),
        lines=lines,
        status=OrderStatus(row["status"]),
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        history=history,
        tracking_number=row["tracking_number"],
        cancellation_reason=row["cancellation_reason"],
    )


def history_entries(history: Sequence[StatusChange]) -> list[dict[str, Any]]:
    """The ``history`` column value (times ISO-8601 UTC)."""
    return [
        {"status": entry.status.value, "at": entry.at.astimezone(UTC).isoformat(), "reason": entry.reason}
        for entry in history
    ]


def history_json(history: Sequence[StatusChange]) -> str:
    """The ``history`` column value as JSON text (for textual statements)."""
    return orjson.dumps(history_entries(history)).decode()


def address_json(address: Address) -> str:
    """The ``shipping_address`` column value (JSON text)."""
    return orjson.dumps(address.model_dump(mode="json")).decode()
