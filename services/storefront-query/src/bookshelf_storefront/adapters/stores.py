"""The SQL stores behind the projections, bound to one session (transaction) and one set of tables."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar
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


State = TypeVar("State")


@dataclass(slots=True)
class LockedOrders(Generic[State]):
    """Order rows of one batch transaction: locked once, then read and changed in memory;
    ``SqlStores.flush_batch`` writes the changed ones back with one executemany (and the report's
    sales with another)."""

    states: dict[UUID, State] = field(default_factory=dict)
    changed: dict[UUID, dict[str, Any]] = field(default_factory=dict)  # update values by order id
    sales: list[dict[str, Any]] = field(default_factory=list)


async def _lock_orders(
    session: AsyncSession, table: str, columns: tuple[str, ...], first_seen: Mapping[UUID, datetime]
) -> list[Any]:
    """Create the missing rows (``updated_at`` from ``first_seen``) and lock them all in one go."""
    keys = sorted(first_seen)
    ats = [first_seen[k] for k in keys]
    await session.execute(sql.ensure_rows(table, "order_id"), {"keys": keys, "ats": ats})
    return list(await session.execute(sql.lock_rows(table, "order_id", columns), {"keys": keys}))


async def _lock_cached(
    session: AsyncSession,
    table: str,
    columns: tuple[str, ...],
    first_seen: Mapping[UUID, datetime],
    locked: LockedOrders[State] | None,
    parse: Callable[[Any], State],
) -> dict[UUID, State]:
    """States of these orders: from the batch's cache, else locked (and cached when batching)."""
    cached = locked.states if locked is not None else {}
    states = {k: cached[k] for k in first_seen if k in cached}
    missing = {k: at for k, at in first_seen.items() if k not in cached}
    if missing:
        for row in await _lock_orders(session, table, columns, missing):
            states[row.order_id] = parse(row)
        if locked is not None:
            locked.states.update(states)
    return states


def _sales(row: Any) -> OrderSales:
    lines = None if row.lines is None else tuple(SaleLine.from_json(line) for line in row.lines)
    return OrderSales(lines, row.confirmed, row.cancelled_after_confirm, row.counted)


async def _write_back(
    session: AsyncSession, table: str, columns: tuple[str, ...], json: str, locked: LockedOrders[Any]
) -> None:
    if locked.changed:
        rows = [locked.changed[k] for k in sorted(locked.changed)]
        await session.execute(sql.update_row(table, "order_id", columns, (json,)), rows)
        locked.changed.clear()


@dataclass(frozen=True, slots=True)
class SqlReportStore(SqlBookStore):
    """BookReport rows plus the report's order table.

    With ``locked`` (batches) order states are cached after their lock, and changes and sales wait
    for ``flush_orders``.
    """

    orders: str = "report_orders"
    locked: LockedOrders[OrderSales] | None = None

    async def upsert_price(self, row: Row) -> None:
        """Apply a price and count the change once per version."""
        self.pending.append(Upsert("report_price", self.table, (), row))

    async def lock_orders(self, first_seen: Mapping[UUID, datetime]) -> dict[UUID, OrderSales]:
        """The sales states of these orders, locked (empty ones created for new orders)."""
        return await _lock_cached(self.session, self.orders, _ORDER_COLUMNS, first_seen, self.locked, _sales)

    async def lock_order(self, order_id: UUID, at: datetime) -> OrderSales:
        """The order's sales state, locked (an empty one is created for a new order)."""
        return (await self.lock_orders({order_id: at}))[order_id]

    async def save_order(self, order_id: UUID, state: OrderSales, at: datetime) -> None:
        """Store the order's sales state."""
        values: dict[str, Any] = {
            "key": order_id,
            "lines": None if state.lines is None else [line.to_json() for line in state.lines],
            "confirmed": state.confirmed,
            "cancelled_after_confirm": state.cancelled_after_confirm,
            "counted": state.counted,
        }
        if self.locked is not None:
            self.locked.states[order_id] = state
            self.locked.changed[order_id] = values
            return
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
        if self.locked is not None:
            self.locked.sales.extend(params)
            return
        await self.session.execute(sql.sales_upsert(self.table), params)

    async def flush_orders(self) -> None:
        """Write the batch's changed orders and its sales (additions commute: one pass in book order)."""
        if self.locked is None:
            return
        if self.locked.sales:
            sales = sorted(self.locked.sales, key=lambda p: (str(p["book_id"]), p["currency"]))
            await self.session.execute(sql.sales_upsert(self.table), sales)
            self.locked.sales.clear()
        await _write_back(self.session, self.orders, _ORDER_COLUMNS, "lines", self.locked)


def _tracking(row: Any) -> Tracking:
    values = {c: getattr(row, c) for c in _TRACKING_COLUMNS}
    history = tuple(HistoryEntry.from_json(entry) for entry in values.pop("history"))
    fresh = not history  # the placeholder row's updated_at is not an event time
    return Tracking(**{**values, "updated_at": None if fresh else values["updated_at"]}, history=history)


@dataclass(frozen=True, slots=True)
class SqlTrackingStore:
    """OrderTracking rows in ``table`` (with ``locked``: cached and written back by ``flush``)."""

    session: AsyncSession
    table: str
    locked: LockedOrders[Tracking] | None = None

    async def lock_many(self, first_seen: Mapping[UUID, datetime]) -> dict[UUID, Tracking]:
        """The tracking rows of these orders, locked (empty ones created for new orders)."""
        return await _lock_cached(
            self.session, self.table, _TRACKING_COLUMNS, first_seen, self.locked, _tracking
        )

    async def lock(self, order_id: UUID, at: datetime) -> Tracking:
        """The order's tracking row, locked (an empty one is created for a new order)."""
        return (await self.lock_many({order_id: at}))[order_id]

    async def save(self, order_id: UUID, state: Tracking) -> None:
        """Store the order's tracking row."""
        values = {c: getattr(state, c) for c in _TRACKING_COLUMNS}
        values["history"] = [entry.to_json() for entry in state.history]
        values["key"] = order_id
        if self.locked is not None:
            self.locked.states[order_id] = state
            self.locked.changed[order_id] = values
            return
        await self.session.execute(
            sql.update_row(self.table, "order_id", _TRACKING_COLUMNS, ("history",)), values
        )

    async def flush(self) -> None:
        """Write the batch's changed tracking rows."""
        if self.locked is not None:
            await _write_back(self.session, self.table, _TRACKING_COLUMNS, "history", self.locked)


class SqlStores:
    """Every read model's SQL store over one session and one ``Tables``.

    With ``batch=True`` (batch handlers, rebuilds) the book upserts of many events wait for
    ``flush_batch``, which sends each statement shape once with all its rows (executemany). That is
    safe because book upserts commute: each column group only takes a higher version, ``updated_at``
    takes the greatest time, and sales only add to columns the upserts do not touch. Order rows
    (report orders, tracking) are locked once per batch (``lock_orders`` / ``lock_many``, all of a
    batch at once), then read and changed in memory event after event, and written back by
    ``flush_batch``; the batch's sales are added there too, in one pass in book id order.
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
            session,
            tables.book_report,
            REPORT_DETAILS,
            self.pending,
            orders=tables.report_orders,
            locked=LockedOrders() if batch else None,
        )
        self.tracking = SqlTrackingStore(session, tables.order_tracking, LockedOrders() if batch else None)

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
        """Send the kept upserts of every event: one executemany per statement shape.

        The statements run one shape after the other, so their rows together are not in book order
        (details of A and C, then the price of B). The batch's report rows are therefore locked first,
        all in one pass in book id order: the order batches add their sales in that same order, so a
        catalog batch and an order batch cannot deadlock on report rows.
        """
        await self._lock_report_books()
        groups: dict[tuple[Shape, ...], list[tuple[str, dict[str, Any]]]] = {}
        for upserts in self._events:
            book = str(upserts[0].params.get("book_id", ""))
            groups.setdefault(tuple(u.shape for u in upserts), []).append((book, parameters(upserts)))
        self._events.clear()
        for shapes, rows in groups.items():
            rows.sort(key=lambda row: row[0])  # in book order (upserts commute)
            await self.session.execute(statement(shapes), [params for _, params in rows])
        await self.reports.flush_orders()
        await self.tracking.flush()

    async def _lock_report_books(self) -> None:
        """Lock (and create when missing) the report rows the kept upserts will write, in book order.

        A created row is empty until the upserts of the same transaction fill it (their insert and
        update paths give the same row).
        """
        first_seen: dict[Any, Any] = {}
        for upserts in self._events:
            for upsert in upserts:
                if upsert.table == self.reports.table:
                    first_seen.setdefault(upsert.params["book_id"], upsert.params["at"])
        if first_seen:
            keys = sorted(first_seen, key=str)
            await self.session.execute(
                sql.lock_books(self.reports.table), {"keys": keys, "ats": [first_seen[k] for k in keys]}
            )
