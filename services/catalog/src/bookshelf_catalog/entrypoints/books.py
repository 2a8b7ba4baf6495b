"""Routes of /books: add (STAFF, idempotent), get, list, change (STAFF)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from bookshelf_servicekit.auth import Staff
from bookshelf_servicekit.idempotency import IdempotencyDep
from bookshelf_servicekit.pagination import Page, Pagination
from bookshelf_servicekit.responses import OrjsonResponse
from fastapi import APIRouter

from bookshelf_catalog.domain.exceptions import BookNotFound
from bookshelf_catalog.entrypoints.deps import Bus, Queries
from bookshelf_catalog.entrypoints.representation import book_json
from bookshelf_catalog.entrypoints.schemas import BookCreate, BookOut, BookPage, BookPatch
from bookshelf_catalog.service_layer.commands import AddBook, UpdateBook

router = APIRouter(tags=["books"])

PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "missing or bad staff token"},
    404: {"description": "unknown book"},
    409: {"description": "duplicate ISBN, or Idempotency-Key reused with another body"},
    422: {"description": "invalid input; `errors` names each field"},
}


@router.post("/books", status_code=201, response_model=BookOut, responses=PROBLEMS)
async def add_book(body: BookCreate, _: Staff, key: IdempotencyDep, bus: Bus) -> OrjsonResponse:
    """Add a book (STAFF). With ``Idempotency-Key`` a retry answers the first response again."""
    answer = await bus.handle_idempotent(
        AddBook(fields=body.fields()), key, render=book_json, status_code=201
    )
    return answer.to_response(headers={"Location": f"/books/{answer.body['book_id']}"})


@router.get("/books/{book_id}", response_model=BookOut, responses={404: PROBLEMS[404]})
async def get_book(book_id: UUID, queries: Queries) -> OrjsonResponse:
    """One book by id."""
    book = await queries.get(book_id)
    if book is None:
        raise BookNotFound(book_id)
    return OrjsonResponse(book_json(book))


@router.get("/books", response_model=BookPage)
async def list_books(page: Pagination, queries: Queries) -> OrjsonResponse:
    """Books, newest first, ``limit`` (1-100) and ``offset``."""
    books, total = await queries.page(limit=page.limit, offset=page.offset)
    entries = [book_json(book) for book in books]
    return OrjsonResponse(Page[dict[str, Any]].build(entries, total=total, params=page).model_dump())


@router.patch("/books/{book_id}", response_model=BookOut, responses=PROBLEMS)
async def update_book(book_id: UUID, body: BookPatch, _: Staff, bus: Bus) -> OrjsonResponse:
    """Change a book (STAFF): a new price emits BookPriceUpdated, other fields BookDetailsUpdated."""
    book = await bus.handle(UpdateBook(book_id=book_id, changes=body.changes()))
    return OrjsonResponse(book_json(book))
