"""FastAPI dependencies of the storefront routes: the runtime bootstrap stored, and the filters."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Annotated

from bookshelf_contracts import Genre
from fastapi import Depends, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bookshelf_storefront.adapters.counting import VisibleTotals
from bookshelf_storefront.domain.queries import STOREFRONT_SORTS, StorefrontFilter, clean_text


@dataclass(frozen=True)
class StorefrontRuntime:
    """What the routes use: sessions on the query engine and the remembered visible total."""

    session_factory: async_sessionmaker[AsyncSession]
    totals: VisibleTotals = field(default_factory=VisibleTotals)


STATE_KEY = "storefront"
# The largest amount a price can have (NUMERIC(14, 2)); a bigger filter was a 500 (numeric overflow).
MAX_PRICE = Decimal("999999999999.99")


def storefront_runtime(request: Request) -> StorefrontRuntime:
    """The ``StorefrontRuntime`` bootstrap stored on the app."""
    runtime = getattr(request.app.state, STATE_KEY)
    assert isinstance(runtime, StorefrontRuntime)
    return runtime


Runtime = Annotated[StorefrontRuntime, Depends(storefront_runtime)]


def storefront_filter(
    author: Annotated[str | None, Query(max_length=200, description="Exact author, case-insensitive")] = None,
    author_contains: Annotated[
        str | None, Query(max_length=200, description="Author contains (case-insensitive)")
    ] = None,
    q: Annotated[str | None, Query(max_length=200, description="Title or author contains")] = None,
    genre: Annotated[Genre | None, Query(description="One genre")] = None,
    in_stock: Annotated[
        bool | None, Query(description="Only books with (true) or without (false) stock")
    ] = None,
    min_price: Annotated[
        Decimal | None, Query(ge=0, le=MAX_PRICE, description="Price amount >= this")
    ] = None,
    max_price: Annotated[
        Decimal | None, Query(ge=0, le=MAX_PRICE, description="Price amount <= this")
    ] = None,
) -> StorefrontFilter:
    """The filters of ``GET /storefront``; blank texts filter nothing; min_price > max_price is a 422."""
    return StorefrontFilter(
        author=clean_text(author),
        author_contains=clean_text(author_contains),
        q=clean_text(q),
        genre=genre.value if genre is not None else None,
        in_stock=in_stock,
        min_price=min_price,
        max_price=max_price,
    )


Filters = Annotated[StorefrontFilter, Depends(storefront_filter)]
SortParam = Annotated[
    str | None,
    Query(
        max_length=50,
        description=f"One of {', '.join(STOREFRONT_SORTS)}; prefix '-' for descending (default title)",
    ),
]
