"""Keeping ordering's catalog replica from ``catalog.books`` (both lanes), applied by version.

The consumer applies runs of these events with ``on_book_events`` (one statement per run): each part
of a replica row only moves forward by version, so the updates commute and the newest one wins in
any order, while a stale or repeated one changes nothing. Nothing here publishes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from bookshelf_contracts import BookAdded, BookDetailsUpdated, BookPriceUpdated, Message

from bookshelf_ordering.domain.placement import ReplicaUpdate
from bookshelf_ordering.service_layer.unit_of_work import UnitOfWork

CatalogEvent = BookAdded | BookDetailsUpdated | BookPriceUpdated


async def on_book_state(event: BookAdded | BookDetailsUpdated, uow: UnitOfWork) -> None:
    """BookAdded / BookDetailsUpdated: title and price at the event's version."""
    await uow.books.apply_book(event.book_id, event.title, event.price, event.version)


async def on_book_price_updated(event: BookPriceUpdated, uow: UnitOfWork) -> None:
    """BookPriceUpdated (v2, Money fields): the new price at the event's version."""
    await uow.books.apply_price(event.book_id, event.new_price, event.version)


def replica_update(event: CatalogEvent) -> ReplicaUpdate:
    """What a catalog event changes in the replica (a price change carries no title)."""
    if isinstance(event, BookPriceUpdated):
        return ReplicaUpdate(event.book_id, None, 0, event.new_price, event.version)
    return ReplicaUpdate(event.book_id, event.title, event.version, event.price, event.version)


async def on_book_events(events: Sequence[CatalogEvent], uow: UnitOfWork) -> None:
    """A run of catalog events (any of ``EVENT_HANDLERS``' types), applied at once, in order."""
    await uow.books.apply_many([replica_update(event) for event in events])


EventHandler = Callable[[Any, UnitOfWork], Awaitable[None]]

# The catalog events ordering keeps its replica from.
EVENT_HANDLERS: dict[type[Message], EventHandler] = {
    BookAdded: on_book_state,
    BookDetailsUpdated: on_book_state,
    BookPriceUpdated: on_book_price_updated,
}
