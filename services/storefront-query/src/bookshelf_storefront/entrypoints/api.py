"""HTTP routes of storefront-query (docs/reference/http.md): thin; every read goes straight to a query."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any
from uuid import UUID

from bookshelf_servicekit import NotFound, OrjsonResponse, Page, PageParams, Pagination
from fastapi import APIRouter, Query

from bookshelf_storefront.adapters import queries, report_queries
from bookshelf_storefront.domain.queries import (
    REPORT_DEFAULT_SORT,
    REPORT_SORTS,
    STOREFRONT_DEFAULT_SORT,
    STOREFRONT_SORTS,
    parse_sort,
)
from bookshelf_storefront.entrypoints.deps import Filters, Runtime, SortParam
from bookshelf_storefront.entrypoints.schemas import CatalogEntry, ReportEntry, StorefrontEntry, TrackingEntry

router = APIRouter()

_PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
_LIST: dict[int | str, dict[str, Any]] = {
    422: {**_PROBLEM, "description": "invalid filter, unknown sort key, bad limit/offset (problem+json)"}
}


def _not_found(what: str) -> dict[int | str, dict[str, Any]]:
    return {404: {**_PROBLEM, "description": f"unknown {what} (problem+json)"}}


def _page(entries: Sequence[Any], total: int, params: PageParams) -> OrjsonResponse:
    # Rendered by orjson directly: the entries are plain dicts, no second validation pass.
    return OrjsonResponse(Page[Any].build(entries, total=total, params=params).model_dump())


@router.get("/storefront", tags=["storefront"], response_model=Page[StorefrontEntry], responses=_LIST)
async def list_storefront(
    runtime: Runtime, page: Pagination, filters: Filters, sort: SortParam = None
) -> OrjsonResponse:
    """Books as the shop lists them: filter by author (exact or contains), title/author text ``q``,
    genre, in_stock and price range; sort by title, author, price, available or updated_at
    (``-`` descending; default title); an unknown sort key is a 422 listing the allowed keys."""
    order = parse_sort(sort, STOREFRONT_SORTS, STOREFRONT_DEFAULT_SORT)
    async with runtime.session_factory() as session:
        entries, total = await queries.storefront_page(
            session, filters, order, page.limit, page.offset, runtime.totals
        )
    return _page(entries, total, page)


@router.get(
    "/storefront/{book_id}", tags=["storefront"], response_model=StorefrontEntry, responses=_not_found("book")
)
async def get_storefront_entry(book_id: UUID, runtime: Runtime) -> dict[str, Any]:
    """One book of the storefront; 404 when unknown (or its catalog entry has not arrived yet)."""
    async with runtime.session_factory() as session:
        entry = await queries.storefront_one(session, book_id)
    if entry is None:
        raise NotFound(f"book {book_id} is not in the storefront")
    return entry


@router.get("/catalog", tags=["catalog"], response_model=Page[CatalogEntry], responses=_LIST)
async def list_catalog(runtime: Runtime, page: Pagination) -> OrjsonResponse:
    """BookCatalog entries (id, title, author, isbn, price) by title."""
    async with runtime.session_factory() as session:
        entries, total = await queries.catalog_page(session, page.limit, page.offset)
    return _page(entries, total, page)


@router.get("/catalog/{book_id}", tags=["catalog"], response_model=CatalogEntry, responses=_not_found("book"))
async def get_catalog_entry(book_id: UUID, runtime: Runtime) -> dict[str, Any]:
    """One BookCatalog entry; 404 when unknown."""
    async with runtime.session_factory() as session:
        entry = await queries.catalog_one(session, book_id)
    if entry is None:
        raise NotFound(f"book {book_id} is not in the catalog")
    return entry


@router.get("/reports/books", tags=["reports"], response_model=Page[ReportEntry], responses=_LIST)
async def list_book_reports(
    runtime: Runtime,
    page: Pagination,
    sort: Annotated[
        str | None,
        Query(
            max_length=50,
            description=f"One of {', '.join(REPORT_SORTS)}; '-' descending (default -units_sold)",
        ),
    ] = None,
) -> OrjsonResponse:
    """BookReport per book: full book state, price_changes, units_sold (confirmed orders minus those
    cancelled after confirmation) and revenue; default sort ``-units_sold``."""
    order = parse_sort(sort, REPORT_SORTS, REPORT_DEFAULT_SORT)
    async with runtime.session_factory() as session:
        entries, total = await report_queries.report_page(session, order, page.limit, page.offset)
    return _page(entries, total, page)


@router.get(
    "/tracking/{order_id}", tags=["tracking"], response_model=TrackingEntry, responses=_not_found("order")
)
async def get_tracking(order_id: UUID, runtime: Runtime) -> dict[str, Any]:
    """OrderTracking of one order: status, customer email, total, tracking number, history; 404 if unknown."""
    async with runtime.session_factory() as session:
        entry = await report_queries.tracking_one(session, order_id)
    if entry is None:
        raise NotFound(f"order {order_id} is not tracked (unknown, or its events have not arrived yet)")
    return entry
