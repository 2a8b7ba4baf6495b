"""limit/offset pagination of list endpoints (docs/reference/http.md "Conventions")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel

T = TypeVar("T")

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
# A bound on offset keeps a silly value a 422: PostgreSQL's OFFSET is a bigint, and 2**63 would be a 500.
MAX_OFFSET = 2**31 - 1


class PageParams(BaseModel):
    """``limit`` (1-100, default 20) and ``offset`` (0 to 2**31 - 1) of a list request."""

    limit: int = DEFAULT_LIMIT
    offset: int = 0


def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size (1-100)")] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Entries to skip")] = 0,
) -> PageParams:
    """FastAPI dependency reading ``limit`` and ``offset`` from the query string."""
    return PageParams(limit=limit, offset=offset)


Pagination = Annotated[PageParams, Depends(page_params)]


class Page(BaseModel, Generic[T]):
    """One page of a list: entries plus totals and navigation flags."""

    entries: list[T]
    total: int
    limit: int
    offset: int
    page: int
    total_pages: int
    has_next: bool
    has_prev: bool

    @classmethod
    def build(cls, entries: Sequence[T], *, total: int, params: PageParams) -> Page[T]:
        """A page from its entries, the total count and the request's limit/offset."""
        limit, offset = params.limit, params.offset
        return cls(
            entries=list(entries),
            total=total,
            limit=limit,
            offset=offset,
            page=offset // limit + 1,
            total_pages=(total + limit - 1) // limit,
            has_next=offset + len(entries) < total,
            has_prev=offset > 0,
        )
