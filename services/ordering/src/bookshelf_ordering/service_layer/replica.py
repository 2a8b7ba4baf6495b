"""Keeping ordering's catalog replica from ``catalog.books`` (both lanes), applied by version."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bookshelf_contracts import BookAdded, BookDetailsUpdated, BookPriceUpdated, Message

from bookshelf_ordering.service_layer.unit_of_work import UnitOfWork


async def on_book_state(event: BookAdded | BookDetailsUpdated, uow: UnitOfWork) -> None:
    """BookAdded / BookDetailsUpdated: title and price at the event's version."""
    await uow.books.apply_book(event.book_id, event.title, event.price, event.version)


async def on_book_price_updated(event: BookPriceUpdated, uow: UnitOfWork) -> None:
    """BookPriceUpdated (v2, Money fields): the new price at the event's version."""
    await uow.books.apply_price(event.book_id, event.new_price, event.version)


EventHandler = Callable[[Any, UnitOfWork], Awaitable[None]]

# The catalog events ordering keeps its replica from.
EVENT_HANDLERS: dict[type[Message], EventHandler] = {
    BookAdded: on_book_state,
    BookDetailsUpdated: on_book_state,
    BookPriceUpdated: on_book_price_updated,
}
