"""What `bookshelf audit` reads: ordering, inventory and shipping databases, and the saga web view.

Read-only SQL over each service's own tables (see their `adapters/orm.py`), one connection per
database; the three are read one after the other, so a saga moving meanwhile can look like drift for
a moment: `audit` re-checks before it reports (see audit.py).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx

from bookshelf_cli.backlog import CONNECT_TIMEOUT_S, asyncpg_dsn, describe_db_error
from bookshelf_cli.connect import admin_token

Lines = dict[str, int]  # book_id -> quantity


@dataclass(frozen=True)
class StockRow:
    """One inventory record with the counters conservation is made of."""

    book_id: str
    on_hand: int
    reserved: int
    initial: int
    restocked: int
    committed: int


@dataclass
class Snapshot:
    """Everything the invariants are checked over (ids as strings)."""

    orders: dict[str, str] = field(default_factory=dict)  # order_id -> status
    open_order_lines: dict[str, Lines] = field(default_factory=dict)  # PENDING/CONFIRMED orders
    stock: list[StockRow] = field(default_factory=list)
    line_sums: dict[str, tuple[int, int]] = field(default_factory=dict)  # book -> (RESERVED, COMMITTED)
    reservations: dict[str, str] = field(default_factory=dict)  # order_id -> status
    reserved_lines: dict[str, Lines] = field(default_factory=dict)  # RESERVED reservations
    shipments: dict[str, tuple[str, str]] = field(default_factory=dict)  # order_id -> (shipment_id, status)
    sagas: dict[str, str] | None = None  # order_id -> state; None: not checked

    def counts(self) -> dict[str, int | None]:
        return {
            "books": len(self.stock),
            "orders": len(self.orders),
            "reservations": len(self.reservations),
            "shipments": len(self.shipments),
            "sagas": None if self.sagas is None else len(self.sagas),
        }


ORDERS_SQL = "SELECT order_id::text, status FROM orders"
OPEN_ORDER_LINES_SQL = (
    "SELECT l.order_id::text, l.book_id::text, sum(l.quantity)::int AS quantity FROM order_lines AS l "
    "JOIN orders AS o ON o.order_id = l.order_id WHERE o.status IN ('PENDING', 'CONFIRMED') GROUP BY 1, 2"
)
STOCK_SQL = (
    "SELECT book_id::text, on_hand, reserved, initial_stock, restocked_total, committed_total FROM stock"
)
LINE_SUMS_SQL = (
    "SELECT l.book_id::text, "
    "coalesce(sum(l.quantity) FILTER (WHERE r.status = 'RESERVED'), 0)::bigint AS reserved, "
    "coalesce(sum(l.quantity) FILTER (WHERE r.status = 'COMMITTED'), 0)::bigint AS committed "
    "FROM reservation_lines AS l JOIN reservations AS r ON r.order_id = l.order_id GROUP BY 1"
)
RESERVATIONS_SQL = "SELECT order_id::text, status FROM reservations"
RESERVED_LINES_SQL = (
    "SELECT l.order_id::text, l.book_id::text, l.quantity FROM reservation_lines AS l "
    "JOIN reservations AS r ON r.order_id = l.order_id WHERE r.status = 'RESERVED'"
)
SHIPMENTS_SQL = "SELECT order_id::text, shipment_id::text, status FROM shipments"


def _lines(rows: list[Any]) -> dict[str, Lines]:
    found: dict[str, Lines] = {}
    for order_id, book_id, quantity in rows:
        found.setdefault(order_id, {})[book_id] = int(quantity)
    return found


class SourceError(RuntimeError):
    """A database or the saga web view could not be read; the message says which and what to do."""


async def _fetch(service: str, url: str, *queries: str) -> list[list[Any]]:
    try:
        conn = await asyncpg.connect(asyncpg_dsn(url), timeout=CONNECT_TIMEOUT_S)
        try:
            # One snapshot per database: every query of it sees the same committed state.
            async with conn.transaction(isolation="repeatable_read", readonly=True):
                return [list(await conn.fetch(q)) for q in queries]
        finally:
            await conn.close()
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        raise SourceError(f"{service} database: {describe_db_error(exc, url)}") from exc


async def read_databases(urls: dict[str, str], snapshot: Snapshot) -> None:
    """Fill ``snapshot`` from the ordering, inventory and shipping databases (``urls`` by service)."""
    orders, open_lines = await _fetch("ordering", urls["ordering"], ORDERS_SQL, OPEN_ORDER_LINES_SQL)
    stock, sums, reservations, reserved = await _fetch(
        "inventory", urls["inventory"], STOCK_SQL, LINE_SUMS_SQL, RESERVATIONS_SQL, RESERVED_LINES_SQL
    )
    [shipments] = await _fetch("shipping", urls["shipping"], SHIPMENTS_SQL)
    snapshot.orders = {r[0]: r[1] for r in orders}
    snapshot.open_order_lines = _lines(open_lines)
    snapshot.stock = [StockRow(r[0], r[1], r[2], r[3], int(r[4]), int(r[5])) for r in stock]
    snapshot.line_sums = {r[0]: (int(r[1]), int(r[2])) for r in sums}
    snapshot.reservations = {r[0]: r[1] for r in reservations}
    snapshot.reserved_lines = _lines(reserved)
    snapshot.shipments = {r[0]: (r[1], r[2]) for r in shipments}


def _entries(body: Any) -> tuple[list[dict[str, Any]], bool]:
    """A list page (`{entries, has_next}`) or a bare JSON list."""
    if isinstance(body, list):
        return body, False
    return list(body.get("entries", [])), bool(body.get("has_next"))


def read_sagas(base_url: str, page_size: int = 100, timeout_s: float = 10.0) -> dict[str, str]:
    """Every saga instance's state from the fulfillment web view (`GET /fulfillments`, paged)."""
    states: dict[str, str] = {}
    offset = 0
    headers = {"Authorization": f"Bearer {admin_token()}"}  # the fulfillment views are STAFF
    with httpx.Client(base_url=base_url, timeout=timeout_s, headers=headers) as client:
        while True:
            answer = client.get("/fulfillments", params={"limit": page_size, "offset": offset})
            answer.raise_for_status()
            entries, has_next = _entries(answer.json())
            states.update({str(e["order_id"]): str(e["state"]) for e in entries})
            if not has_next or not entries:
                return states
            offset += len(entries)


def read_snapshot(urls: dict[str, str], fulfillment_url: str | None) -> Snapshot:
    """One snapshot of everything; sagas only when ``fulfillment_url`` is given."""
    snapshot = Snapshot()
    asyncio.run(read_databases(urls, snapshot))
    if fulfillment_url is not None:
        try:
            snapshot.sagas = read_sagas(fulfillment_url)
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            raise SourceError(
                f"saga states from {fulfillment_url}/fulfillments: {type(exc).__name__}: {exc}; "
                "start the fulfillment service, set FULFILLMENT_URL if it runs elsewhere, or pass --skip-sagas"
            ) from exc
    return snapshot
