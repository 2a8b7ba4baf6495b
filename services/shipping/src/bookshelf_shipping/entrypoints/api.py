"""HTTP routes of docs/reference/http.md "shipping (8004)": thin; reads go straight to queries."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from bookshelf_servicekit import Page, Pagination, Staff
from bookshelf_servicekit.no_body import NoBody
from fastapi import APIRouter, Query

from bookshelf_shipping.adapters import queries
from bookshelf_shipping.adapters.unit_of_work import transaction
from bookshelf_shipping.domain.exceptions import ShipmentNotFound
from bookshelf_shipping.entrypoints.deps import Runtime, ShippingRuntime
from bookshelf_shipping.entrypoints.schemas import ShipmentView
from bookshelf_shipping.service_layer.commands import DeliverShipment, DispatchShipment
from bookshelf_shipping.service_layer.handlers import handle

router = APIRouter(tags=["shipments"])

_PROBLEM: dict[str, Any] = {"description": "problem+json", "content": {"application/problem+json": {}}}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {**_PROBLEM, "description": "unknown shipment (problem+json)"}
}
_STAFF: dict[int | str, dict[str, Any]] = {
    401: {**_PROBLEM, "description": "missing or bad staff token (problem+json)"},
    **_NOT_FOUND,
}


@router.get("/shipments/{shipment_id}", response_model=ShipmentView, responses=_NOT_FOUND)
async def get_shipment(shipment_id: UUID, runtime: Runtime) -> dict[str, Any]:
    """One shipment with its address, lines and status history; 404 when unknown."""
    async with runtime.session_factory() as session:
        view = await queries.shipment_by_id(session, shipment_id)
    if view is None:
        raise ShipmentNotFound(shipment_id)
    return view


@router.get("/shipments", response_model=Page[ShipmentView])
async def list_shipments(
    runtime: Runtime,
    page: Pagination,
    order_id: Annotated[UUID | None, Query(description="Only the shipment of this order")] = None,
) -> Page[Any]:
    """Shipments, newest first, optionally of one order (``order_id``); ``limit``/``offset`` paging."""
    async with runtime.session_factory() as session:
        entries, total = await queries.list_shipments(
            session, order_id=order_id, limit=page.limit, offset=page.offset
        )
    return Page[Any].build(entries, total=total, params=page)


@router.post(
    "/shipments/{shipment_id}/dispatch",
    response_model=ShipmentView,
    responses={**_STAFF, 409: {**_PROBLEM, "description": "the shipment is not CREATED (problem+json)"}},
)
async def dispatch_shipment(shipment_id: UUID, _: Staff, __: NoBody, runtime: Runtime) -> dict[str, Any]:
    """STAFF. The shipment left the warehouse: CREATED -> DISPATCHED; 409 from any other status."""
    return await _run(runtime, DispatchShipment(shipment_id))


@router.post(
    "/shipments/{shipment_id}/deliver",
    response_model=ShipmentView,
    responses={**_STAFF, 409: {**_PROBLEM, "description": "the shipment is not DISPATCHED (problem+json)"}},
)
async def deliver_shipment(shipment_id: UUID, _: Staff, __: NoBody, runtime: Runtime) -> dict[str, Any]:
    """STAFF. The shipment reached its address: DISPATCHED -> DELIVERED; 409 from any other status."""
    return await _run(runtime, DeliverShipment(shipment_id))


async def _run(runtime: ShippingRuntime, command: DispatchShipment | DeliverShipment) -> dict[str, Any]:
    async with transaction(runtime.session_factory, runtime.outbox) as uow:
        await handle(command, uow, runtime.deps)
    async with runtime.session_factory() as session:
        view = await queries.shipment_by_id(session, command.shipment_id)
    if view is None:  # pragma: no cover - shipments are never deleted
        raise ShipmentNotFound(command.shipment_id)
    return view
