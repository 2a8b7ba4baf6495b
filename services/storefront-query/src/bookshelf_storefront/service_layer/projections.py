"""The projections: for each read model, which event types change it and how.

The live consumers and ``projections rebuild`` run these same functions; only the tables behind the
``Stores`` differ (the views, or a generation being built).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from bookshelf_contracts import (
    BookAdded,
    BookDetailsUpdated,
    BookPriceUpdated,
    InventoryLevelChanged,
    Message,
)

from bookshelf_storefront.domain import sales, tracking
from bookshelf_storefront.domain.rows import book_state_row, price_row, stock_row
from bookshelf_storefront.service_layer.ports import Stores

Projection = Callable[[Any, datetime, Stores], Awaitable[None]]


async def storefront_details(message: BookAdded | BookDetailsUpdated, at: datetime, stores: Stores) -> None:
    """StorefrontView takes the book's title, author, isbn, genre and price."""
    await stores.storefront.upsert_details(book_state_row(message, at))


async def storefront_price(message: BookPriceUpdated, at: datetime, stores: Stores) -> None:
    """StorefrontView takes the new price."""
    await stores.storefront.upsert_price(price_row(message, at))


async def storefront_stock(message: InventoryLevelChanged, at: datetime, stores: Stores) -> None:
    """StorefrontView takes the availability (kept even before the book is known; hidden until then)."""
    await stores.storefront.upsert_stock(stock_row(message, at))


async def catalog_details(message: BookAdded | BookDetailsUpdated, at: datetime, stores: Stores) -> None:
    """BookCatalog takes the book's title, author, isbn and price."""
    await stores.catalog.upsert_details(book_state_row(message, at))


async def catalog_price(message: BookPriceUpdated, at: datetime, stores: Stores) -> None:
    """BookCatalog takes the new price."""
    await stores.catalog.upsert_price(price_row(message, at))


async def report_details(message: BookAdded | BookDetailsUpdated, at: datetime, stores: Stores) -> None:
    """BookReport takes the latest full book state."""
    await stores.reports.upsert_details(book_state_row(message, at))


async def report_price(message: BookPriceUpdated, at: datetime, stores: Stores) -> None:
    """BookReport takes the new price and counts the change once per price version."""
    await stores.reports.upsert_price(price_row(message, at))


async def report_order(message: Message, at: datetime, stores: Stores) -> None:
    """An ordering event: update the order's flags; add or subtract its lines when that changes."""
    order_id = getattr(message, "order_id")  # noqa: B009 - every ordering event has one
    before = await stores.reports.lock_order(order_id, at)
    state, sign = sales.settle(sales.on_event(before, message))
    if state == before:
        return
    if sign and state.lines:
        await stores.reports.add_sales(sales.book_totals(state.lines, sign), at)
    await stores.reports.save_order(order_id, state, at)


async def track_order(message: Message, at: datetime, stores: Stores) -> None:
    """An ordering or shipping event: update the order's tracking row and history."""
    order_id = getattr(message, "order_id")  # noqa: B009 - every ordering/shipping event has one
    before = await stores.tracking.lock(order_id, at)
    after = tracking.apply(before, message, at)
    if after != before:
        await stores.tracking.save(order_id, after)


_BOOK_STATE = ("BookAdded", "BookDetailsUpdated")
_ORDER_EVENTS = tuple(tracking.ORDER_STATUS)
_SHIPMENT_EVENTS = tuple(tracking.SHIPMENT_STATUS)

PROJECTIONS: dict[str, dict[str, Projection]] = {
    "storefront": {
        **dict.fromkeys(_BOOK_STATE, storefront_details),
        "BookPriceUpdated": storefront_price,
        "InventoryLevelChanged": storefront_stock,
    },
    "catalog": {**dict.fromkeys(_BOOK_STATE, catalog_details), "BookPriceUpdated": catalog_price},
    "reports": {
        **dict.fromkeys(_BOOK_STATE, report_details),
        "BookPriceUpdated": report_price,
        **dict.fromkeys(_ORDER_EVENTS, report_order),
    },
    "tracking": dict.fromkeys(_ORDER_EVENTS + _SHIPMENT_EVENTS, track_order),
}


def projections_for(models: Iterable[str]) -> dict[str, list[Projection]]:
    """``{event type: [projection, ...]}`` over the given read models, in the order given."""
    table: dict[str, list[Projection]] = {}
    for model in models:
        for type_name, projection in PROJECTIONS[model].items():
            table.setdefault(type_name, []).append(projection)
    return table


async def project(chain: list[Projection], message: Message, at: datetime, stores: Stores) -> None:
    """Run every projection of ``chain`` on one message in the caller's transaction, then flush."""
    for projection in chain:
        await projection(message, at, stores)
    await stores.flush()


async def lock_orders_of(
    chains: Mapping[str, list[Projection]], batch: Sequence[tuple[Message, datetime]], stores: Stores
) -> None:
    """Lock every order row the batch's projections will read, all at once and in key order.

    ``report_order`` and ``track_order`` lock their order again per event; in batch mode the stores
    answer that from memory, so a batch costs two statements per order table instead of two per
    event and projection.
    """
    reports: dict[UUID, datetime] = {}
    tracked: dict[UUID, datetime] = {}
    for message, at in batch:
        order_id = getattr(message, "order_id", None)
        chain = chains[message.TYPE]
        if order_id is not None and report_order in chain:
            reports.setdefault(order_id, at)
        if order_id is not None and track_order in chain:
            tracked.setdefault(order_id, at)
    if reports:
        await stores.reports.lock_orders(reports)
    if tracked:
        await stores.tracking.lock_many(tracked)


async def project_batch(
    chains: Mapping[str, list[Projection]], batch: Sequence[tuple[Message, datetime]], stores: Stores
) -> None:
    """Run the projections of every message in order, on batch-mode stores (the caller flushes them)."""
    await lock_orders_of(chains, batch, stores)
    for message, at in batch:
        await project(chains[message.TYPE], message, at, stores)
