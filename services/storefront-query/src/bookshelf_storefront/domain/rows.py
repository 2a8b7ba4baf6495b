"""Catalog and inventory events as the column values the read models upsert (pure).

Each read model keeps one version column per source of truth: ``details_version`` (full book state
from BookAdded / BookDetailsUpdated), ``price_version`` (the price, carried by every catalog event)
and ``stock_version`` (InventoryLevelChanged). A value is only replaced by one of a higher version,
so replays never regress a row and a BookPriceUpdated that overtakes its BookAdded does not hide
the book's details.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bookshelf_contracts import BookAdded, BookDetailsUpdated, BookPriceUpdated, InventoryLevelChanged

Row = dict[str, Any]


def book_state_row(message: BookAdded | BookDetailsUpdated, at: datetime) -> Row:
    """The full book state of BookAdded / BookDetailsUpdated (details and price share its version)."""
    return {
        "book_id": message.book_id,
        "title": message.title,
        "author": message.author,
        "isbn": message.isbn,
        "genre": message.genre.value if message.genre is not None else None,
        "description": message.description,
        "tags": list(message.tags),
        "page_count": message.page_count,
        "publication_date": message.publication_date,
        "in_print": message.in_print,
        "price_amount": message.price.amount,
        "price_currency": message.price.currency.value,
        "version": message.version,
        "at": at,
    }


def price_row(message: BookPriceUpdated, at: datetime) -> Row:
    """The new price of BookPriceUpdated, at its version."""
    return {
        "book_id": message.book_id,
        "price_amount": message.new_price.amount,
        "price_currency": message.new_price.currency.value,
        "version": message.version,
        "at": at,
    }


def stock_row(message: InventoryLevelChanged, at: datetime) -> Row:
    """The absolute availability of InventoryLevelChanged, at its version."""
    return {"book_id": message.book_id, "available": message.available, "version": message.version, "at": at}
