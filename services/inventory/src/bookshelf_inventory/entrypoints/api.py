"""HTTP routes of inventory (docs/reference/http.md "inventory"): thin, reads straight from queries."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from bookshelf_servicekit import IdempotencyDep, Page, Pagination, Staff, run_idempotent
from bookshelf_servicekit.idempotency import SqlIdempotencyRepository
from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from bookshelf_inventory.adapters import queries
from bookshelf_inventory.adapters.unit_of_work import transaction
from bookshelf_inventory.domain.exceptions import MAX_RESTOCK, InventoryNotFound, ReservationNotFound
from bookshelf_inventory.entrypoints.deps import ReadSession, Services
from bookshelf_inventory.service_layer import handlers

router = APIRouter(tags=["inventory"])


class InventoryOut(BaseModel):
    """The stock of one book; ``available = on_hand - reserved``."""

    book_id: UUID
    title: str
    on_hand: int
    reserved: int
    available: int
    version: int


class RestockIn(BaseModel):
    """Units to add on hand."""

    model_config = ConfigDict(extra="forbid")

    quantity: Annotated[int, Field(strict=True, ge=1, le=MAX_RESTOCK)]


class LineOut(BaseModel):
    """A reserved quantity of one book."""

    book_id: UUID
    quantity: int


class ReservationOut(BaseModel):
    """An order's reservation."""

    order_id: UUID
    status: str = Field(description="RESERVED, RELEASED or COMMITTED")
    lines: list[LineOut]


@router.get(
    "/inventory/{book_id}", response_model=InventoryOut, responses={404: {"description": "unknown book"}}
)
async def get_inventory(book_id: UUID, session: ReadSession) -> InventoryOut:
    """The stock of one book."""
    row = await queries.inventory_of(session, book_id)
    if row is None:
        raise InventoryNotFound(book_id)
    return InventoryOut.model_validate(row)


@router.get("/inventory", response_model=Page[InventoryOut])
async def list_inventory(
    session: ReadSession,
    services: Services,
    page: Pagination,
    low_stock: Annotated[bool, Query(description="only books with available < 3")] = False,
) -> Page[InventoryOut]:
    """Stock records ordered by title; ``low_stock=true`` keeps those running out."""
    below = services.settings.low_stock_below if low_stock else None
    rows, total = await queries.list_inventory(
        session, low_stock_below=below, limit=page.limit, offset=page.offset
    )
    return Page[InventoryOut].build([InventoryOut.model_validate(r) for r in rows], total=total, params=page)


@router.post(
    "/inventory/{book_id}/restock",
    response_model=InventoryOut,
    responses={401: {"description": "staff token missing or wrong"}, 404: {"description": "unknown book"}},
)
async def restock_book(
    book_id: UUID, body: RestockIn, _staff: Staff, services: Services, idempotency: IdempotencyDep
) -> Response:
    """STAFF: add units on hand (emits StockRestocked and InventoryLevelChanged).

    An ``Idempotency-Key`` header makes a retried request answer the first response instead of
    restocking twice.
    """
    async with transaction(services.session_factory, services.outbox) as uow:

        async def work() -> object:
            await handlers.restock(book_id, body.quantity, uow)
            row = await queries.inventory_of(uow.session, book_id)
            return InventoryOut.model_validate(row).model_dump(mode="json")

        answer = await run_idempotent(
            SqlIdempotencyRepository(uow.session), idempotency, work, status_code=200
        )
    return answer.to_response()


@router.get(
    "/reservations/{order_id}",
    response_model=ReservationOut,
    responses={404: {"description": "no reservation for this order (unknown, or refused)"}},
)
async def get_reservation(order_id: UUID, _staff: Staff, session: ReadSession) -> ReservationOut:
    """An order's reservation and its lines (STAFF); a refused one is a 404 that names the short lines."""
    row = await queries.reservation_of(session, order_id)
    if row is None:
        raise ReservationNotFound(order_id)
    if row["status"] == "FAILED":
        short = ", ".join(
            f"book_id {s['book_id']} requested {s['requested']}, available {s['available']}"
            for s in row["short_lines"]
        )
        raise ReservationNotFound(
            order_id, f"order_id {order_id} has no reservation: it was refused ({short})"
        )
    return ReservationOut.model_validate(row)
