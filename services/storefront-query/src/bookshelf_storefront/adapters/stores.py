"""The SQL stores behind the projections, bound to one session (transaction) and one set of tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from bookshelf_storefront.adapters import sql
from bookshelf_storefront.adapters.sql_books import (
    CATALOG_DETAILS,
    REPORT_DETAILS,
    STOREFRONT_DETAILS,
    Shape,
    Upsert,
    parameters,
    statement,
)
from bookshelf_storefront.adapters.tables import LIVE, Tables
from bookshelf_storefront.domain.rows import Row
from bookshelf_storefront.domain.sales import OrderSales, SaleLine
from bookshelf_storefront.domain.tracking import HistoryEntry, Tracking


def _only(row: Row, columns: tuple[str, ...]) -> Row:
    return {c: row[c] for c in ("book_id", *columns, "price_amount", "price_currency", "version", "at")}


@dataclass(frozen=True, slots=True)
class SqlBookStore:
    """Storefront, catalog or report book rows in ``table`` with the ``details`` columns it keeps.

    Upserts wait in ``pending`` until ``SqlStores.flush`` sends every upsert of the event at once.
    """

    session: AsyncSession
    table: str
    details: tuple[str, ...]
    pending: list[Upsert]
    details_kind: str = "details"

    async def upsert_details(self, row: Row) -> None:
        """Apply a full book state unless a newer one is there."""
        self.pending.append(Upsert(self.details_kind, self.table, self.details, _only(row, self.details)))

    async def upsert_price(self, row: Row) -> None:
        """Apply a price unless a newer one is there."""
        self.pending.append(Upsert("price", self.table, (), row))

    async def upsert_stock(self, row: Row) -> None:
        """Apply an availability unless a newer one is there."""
        self.pending.append(Upsert("stock", self.table, (), row))


_ORDER_COLUMNS = ("lines", "confirmed", "cancelled_after_confirm", "counted")
_TRACKING_COLUMNS = (
    "status",
    "customer_email",
    "total_amount",
    "total_currency",
    "tracking_number",
    "shipment_status",
    "order_version",
    "shipment_version",
    "history",
    "updated_at",
)


@dataclass(frozen=True, slots=True)
class SqlReportStore(SqlBookStore):
    """BookReport rows plus the report's order table."""

    orders: str = "report_orders"

    async def upsert_price(self, row: Row) -> None:
        """Apply a price and count the change once per version."""
        self.pending.append(Upsert("report_price", self.table, (), row))

    async def lock_order(self, order_id: UUID, at: datetime) -> OrderSales:
        """The order's sales state, locked (an empty one is created for a new order)."""
        await self.session.execute(sql.ensure_row(self.orders, "order_id"), {"key": order_id, "at": at})
        result = await self.session.execute(
            sql.lock_row(self.orders, "order_id", _ORDER_COLUMNS), {"key": order_id}
        )
        lines, confirmed, cancelled, counted = result.one()
        parsed = None if lines is None else tuple(SaleLine.from_json(line) for line in lines)
        return OrderSales(parsed, confirmed, cancelled, counted)

    async def save_order(self, order_id: UUID, state: OrderSales, at: datetime) -> None:
        """Store the order's sales state."""
        values: dict[str, Any] = {
            "key": order_id,
            "lines": None if state.lines is None else [line.to_json() for line in state.lines],
            "confirmed": state.confirmed,
            "cancelled_after_confirm": state.cancelled_after_confirm,
            "counted": state.counted,
        }
        await self.session.execute(
            sql.update_row(self.orders, "order_id", _ORDER_COLUMNS, ("lines",)), values
        )

    async def add_sales(self, lines: list[SaleLine], at: datetime) -> None:
        """Add (negative: subtract) units and revenue per book, in book id order."""
        params = [
            {
                "book_id": s.book_id,
                "quantity": s.quantity,
                "amount": s.amount,
                "currency": s.currency,
                "at": at,
            }
            for s in lines
        ]
        await self.session.execute(sql.sales_upsert(self.table), params)


@dataclass(frozen=True, slots=True)
class SqlTrackingStore:
    """OrderTracking rows in ``table``."""

    session: AsyncSession
    table: str

    async def lock(self, order_id: UUID, at: datetime) -> Tracking:
        """The order's tracking row, locked (an empty one is created for a new order)."""
        await self.session.execute(sql.ensure_row(self.table, "order_id"), {"key": order_id, "at": at})
        result = await self.session.execute(
            sql.lock_row(self.table, "order_id", _TRACKING_COLUMNS), {"key": order_id}
        )
        row = result.one()._asdict()
        history = tuple(HistoryEntry.from_json(entry) for entry in row.pop("history"))
        fresh = not history  # the placeholder row's updated_at is not an event time
        return Tracking(**{**row, "updated_at": None if fresh else row["updated_at"]}, history=history)

    async def save(self, order_id: UUID, state: Tracking) -> None:
        """Store the order's tracking row."""
        values = {c: getattr(state, c) for c in _TRACKING_COLUMNS}
        values["history"] = [entry.to_json() for entry in state.history]
        values["key"] = order_id
        await self.session.execute(
            sql.update_row(self.table, "order_id", _TRACKING_COLUMNS, ("history",)), values
        )


class SqlStores:
    """Every read model's SQL store over one session and one ``Tables``.

    With ``batch=True`` (rebuilds) the book upserts of many events wait for ``flush_batch``, which
    sends each statement shape once with all its rows (executemany). That is safe because book
    upserts commute: each column group only takes a higher version, ``updated_at`` takes the
    greatest time, and sales only add to columns the upserts do not touch.
    """

    def __init__(self, session: AsyncSession, tables: Tables = LIVE, *, batch: bool = False) -> None:
        self.session = session
        self.batch = batch
        self.pending: list[Upsert] = []
        self._events: list[list[Upsert]] = []
        self.storefront = SqlBookStore(
            session, tables.storefront_view, STOREFRONT_DETAILS, self.pending, "storefront_details"
        )
        self.catalog = SqlBookStore(session, tables.book_catalog, CATALOG_DETAILS, self.pending)
        self.reports = SqlReportStore(
            session, tables.book_report, REPORT_DETAILS, self.pending, orders=tables.report_orders
        )
        self.tracking = SqlTrackingStore(session, tables.order_tracking)

    async def flush(self) -> None:
        """End of an event: send its waiting book upserts as one statement (or keep them for the batch)."""
        if not self.pending:
            return
        upserts = list(self.pending)
        self.pending.clear()
        if self.batch:
            self._events.append(upserts)
            return
        await self.session.execute(statement(tuple(u.shape for u in upserts)), parameters(upserts))

    async def flush_batch(self) -> None:
        """Send the kept upserts of every event: one executemany per statement shape."""
        groups: dict[tuple[Shape, ...], list[dict[str, Any]]] = {}
        for upserts in self._events:
            groups.setdefault(tuple(u.shape for u in upserts), []).append(parameters(upserts))
        self._events.clear()
        for shapes, rows in groups.items():
            await self.session.execute(statement(shapes), rows)
