"""HTTP routes of ordering (docs/reference/http.md "ordering"): thin, each a command or a query."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from bookshelf_servicekit import IdempotencyDep, OrjsonResponse, Page, Pagination, Staff
from bookshelf_servicekit.no_body import NoBody
from fastapi import APIRouter, Query

from bookshelf_ordering.adapters import queries
from bookshelf_ordering.domain.exceptions import OrderNotFound
from bookshelf_ordering.domain.model import OrderStatus
from bookshelf_ordering.entrypoints.deps import Deps, OrderAccess, PlacementLimit
from bookshelf_ordering.entrypoints.schemas import OrderOut, OrderPageOut, PlacedOrderOut, PlaceOrderIn
from bookshelf_ordering.service_layer import handlers
from bookshelf_ordering.service_layer.views import order_json

router = APIRouter(tags=["orders"])

_PROBLEM = {"description": "problem+json"}
_UNAUTHORIZED = {"description": "no credentials, or neither the order's access token nor the staff token"}


@router.post(
    "/orders",
    status_code=201,
    response_model=None,
    responses={
        201: {"model": PlacedOrderOut},
        409: _PROBLEM,
        422: _PROBLEM,
        429: {"description": "too many orders from this client (problem+json, Retry-After)"},
    },
)
async def place_order(
    body: PlaceOrderIn, idempotency: IdempotencyDep, deps: Deps, _: PlacementLimit
) -> OrjsonResponse:
    """Place an order (PENDING) priced from ordering's catalog replica; publishes OrderPlaced.

    The answer carries the order's ``access_token``, shown only here: send it as
    ``Authorization: Bearer <access_token>`` to read or cancel the order.
    422 names the broken field (``items[2].book_id`` for an unknown book or another currency).
    With ``Idempotency-Key`` the same key and body answer the first response (and the same token);
    another body is a 409. Too many orders from one client: 429 (the staff token is not limited).
    """
    async with deps.uow() as uow:
        answer = await handlers.place_order(body.to_command(), uow, idempotency, tokens=deps.tokens)
    return answer.to_response(headers={"Location": f"/orders/{answer.body['order_id']}"})


@router.get("/orders/{order_id}", response_model=OrderOut, responses={401: _UNAUTHORIZED, 404: _PROBLEM})
async def get_order(order_id: UUID, deps: Deps, _: OrderAccess) -> OrjsonResponse:
    """One order with its lines and status history (ORDER: its access token or the staff token).

    401 for any other token, whether or not the order exists; 404 (staff only) when unknown.
    """
    async with deps.session_factory() as session:
        order = await queries.get_order(session, order_id)
    if order is None:
        raise OrderNotFound(order_id)
    return OrjsonResponse(order_json(order))


@router.get("/orders", response_model=OrderPageOut, responses={401: _PROBLEM})
async def list_orders(
    deps: Deps,
    _: Staff,
    page: Pagination,
    customer_email: Annotated[
        str | None, Query(max_length=254, description="exact, case-insensitive")
    ] = None,
    status: Annotated[OrderStatus | None, Query(description="only orders in this status")] = None,
) -> OrjsonResponse:
    """Orders, newest first, optionally of one customer e-mail and/or one status (STAFF)."""
    async with deps.session_factory() as session:
        found, total = await queries.list_orders(
            session, customer_email=customer_email, status=status, limit=page.limit, offset=page.offset
        )
    result: Page[dict[str, Any]] = Page.build([order_json(o) for o in found], total=total, params=page)
    return OrjsonResponse(result.model_dump())


@router.post(
    "/orders/{order_id}/cancel",
    status_code=202,
    response_model=OrderOut,
    responses={401: _UNAUTHORIZED, 404: _PROBLEM, 409: _PROBLEM},
)
async def cancel_order(order_id: UUID, deps: Deps, _: NoBody, access: OrderAccess) -> OrjsonResponse:
    """Ask to cancel an order (ORDER: its access token or the staff token, else 401).

    202: the request is recorded in the order's history (status unchanged) and published as
    OrderCancellationRequested. The fulfillment saga decides: it cancels the shipment first and the
    order ends CANCELLED, or, when the shipment had already left, SHIPPED with the refusal in its
    history. A repeat, or an already cancelled order: 202 with no second event.
    SHIPPED or DELIVERED: 409 at once.
    """
    async with deps.uow() as uow:
        body = await handlers.cancel_by_customer(order_id, uow)
    return OrjsonResponse(body, status_code=202)
