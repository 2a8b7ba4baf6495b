"""Command handlers: small async functions in one explicit table, dependencies passed in.

Every handler runs inside one transaction (its unit of work) and ends with ``uow.commit()``, which
hands the events to the outbox in that transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import structlog
from bookshelf_contracts import CancelShipment, CreateShipment

from bookshelf_shipping.domain.exceptions import (
    InvalidTransition,
    ShipmentNotFound,
    TrackingNumberTaken,
    TransitionAlreadyMade,
    Undeliverable,
)
from bookshelf_shipping.domain.model import TRANSITIONS, Refusal, RefusalKind, Shipment
from bookshelf_shipping.domain.rules import ServedCountries, new_tracking_number
from bookshelf_shipping.service_layer import metrics
from bookshelf_shipping.service_layer.commands import DeliverShipment, DispatchShipment
from bookshelf_shipping.service_layer.unit_of_work import UnitOfWork

log = structlog.get_logger("bookshelf.shipping")

TRACKING_ATTEMPTS = 5


def utcnow() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class ShippingDeps:
    """What handlers need besides the unit of work: the served countries, tracking numbers, a clock."""

    served: ServedCountries
    new_tracking_number: Callable[[], str] = field(default=new_tracking_number)
    clock: Callable[[], datetime] = field(default=utcnow)


async def create_shipment(cmd: CreateShipment, uow: UnitOfWork, deps: ShippingDeps) -> str:
    """Create the order's shipment, or answer the outcome the order already has (never a second one).

    An existing shipment is announced again (ShipmentCreated with its ids, so a saga that lost the
    first answer still progresses); a stored refusal answers its ShipmentFailed again; an address that
    breaks a deliverability rule stores a refusal and answers ShipmentFailed naming the rule.
    """
    existing = await uow.shipments.for_order(cmd.order_id)
    refusal = None if existing else await uow.refusals.get(cmd.order_id)
    if existing is not None:
        uow.announce(existing.created_event())
        outcome = "existing"
    elif refusal is not None:
        uow.announce(refusal.failed_event())
        outcome = "refused_again"
    else:
        try:
            await _store_new_shipment(cmd, uow, deps)
            outcome = "created"
        except Undeliverable as exc:
            refusal = Refusal(cmd.order_id, RefusalKind.UNDELIVERABLE, exc.reason, deps.clock())
            await uow.refusals.add(refusal)
            uow.announce(refusal.failed_event())
            log.info("shipment.undeliverable", order_id=str(cmd.order_id), reason=exc.reason)
            outcome = "undeliverable"
    await uow.commit()
    metrics.COMMANDS.labels("CreateShipment", outcome).inc()
    return outcome


async def _store_new_shipment(cmd: CreateShipment, uow: UnitOfWork, deps: ShippingDeps) -> Shipment:
    # A collision of 36^10 random numbers is astronomically rare; the unique constraint catches it
    # and a fresh number is drawn. Running out of attempts means something else is wrong: raise, so
    # the runner retries and finally dead-letters the command with the reason.
    tried: list[str] = []
    for _ in range(TRACKING_ATTEMPTS):
        tried.append(deps.new_tracking_number())
        shipment = Shipment.create(
            cmd.order_id,
            cmd.address,
            cmd.lines,
            served=deps.served,
            tracking_number=tried[-1],
            at=deps.clock(),
        )
        try:
            await uow.shipments.add(shipment)
        except TrackingNumberTaken as exc:
            metrics.TRACKING_COLLISIONS.inc()
            log.warning("shipment.tracking_number_collision", tracking_number=exc.tracking_number)
            continue
        return shipment
    raise RuntimeError(
        f"no free tracking number after {TRACKING_ATTEMPTS} attempts: {', '.join(tried)} were taken"
    )


async def cancel_shipment(cmd: CancelShipment, uow: UnitOfWork, deps: ShippingDeps) -> str:
    """Cancel the order's CREATED shipment; every other case is acknowledged without effect.

    No shipment yet: a refusal is stored, so a CreateShipment that arrives late (a replayed dead
    letter) answers ShipmentFailed instead of leaving a CREATED shipment behind, and ShipmentFailed is
    announced now, so a saga waiting for the cancellation (CANCELLING) goes on at once. Already CANCELLED:
    no-op. DISPATCHED or DELIVERED: the goods left, nothing to cancel; logged and counted, and the
    command is acknowledged (retrying can never succeed, so it must not loop through the DLQ).
    """
    shipment = await uow.shipments.for_order(cmd.order_id)
    if shipment is None:
        refusal = await uow.refusals.get(cmd.order_id)
        if refusal is None:
            reason = f"order was cancelled before its shipment was created: {cmd.reason}"
            refusal = Refusal(cmd.order_id, RefusalKind.CANCELLED_BEFORE_CREATION, reason, deps.clock())
            await uow.refusals.add(refusal)
        uow.announce(refusal.failed_event())
        log.info("shipment.cancel_without_shipment", order_id=str(cmd.order_id), reason=cmd.reason)
        outcome = "no_shipment"
    else:
        try:
            outcome = "cancelled" if shipment.cancel(cmd.reason, deps.clock()) else "already_cancelled"
        except InvalidTransition as exc:
            metrics.CANCEL_REFUSED.labels(shipment.status.value).inc()
            log.warning("shipment.cancel_refused", order_id=str(cmd.order_id), error=str(exc))
            outcome = "too_late"
        if outcome == "cancelled":
            await uow.shipments.save(shipment)
    await uow.commit()
    metrics.COMMANDS.labels("CancelShipment", outcome).inc()
    return outcome


async def dispatch_shipment(cmd: DispatchShipment, uow: UnitOfWork, deps: ShippingDeps) -> Shipment:
    """CREATED -> DISPATCHED; anything else is a conflict (a repeat too: docs/reference/http.md)."""
    return await _transition(cmd.shipment_id, "dispatch", uow, deps)


async def deliver_shipment(cmd: DeliverShipment, uow: UnitOfWork, deps: ShippingDeps) -> Shipment:
    """DISPATCHED -> DELIVERED; anything else is a conflict (a repeat too: docs/reference/http.md)."""
    return await _transition(cmd.shipment_id, "deliver", uow, deps)


async def _transition(shipment_id: UUID, action: str, uow: UnitOfWork, deps: ShippingDeps) -> Shipment:
    shipment = await uow.shipments.get(shipment_id)
    if shipment is None:
        raise ShipmentNotFound(shipment_id)
    move = shipment.dispatch if action == "dispatch" else shipment.deliver
    if not move(deps.clock()):
        # docs/reference/http.md: "409 unless CREATED" (dispatch) / "unless DISPATCHED" (deliver),
        # literally: the domain treats the repeat as a no-op, the staff API reports it as a conflict.
        raise TransitionAlreadyMade(shipment.shipment_id, action, shipment.status, TRANSITIONS[action][0])
    await uow.shipments.save(shipment)
    await uow.commit()
    metrics.COMMANDS.labels(f"{action.capitalize()}Shipment", "done").inc()
    return shipment


Handler = Callable[[Any, UnitOfWork, ShippingDeps], Awaitable[Any]]

COMMAND_HANDLERS: dict[type, Handler] = {
    CreateShipment: create_shipment,
    CancelShipment: cancel_shipment,
    DispatchShipment: dispatch_shipment,
    DeliverShipment: deliver_shipment,
}


async def handle(command: object, uow: UnitOfWork, deps: ShippingDeps) -> Any:
    """Run the handler registered for the command's type in ``COMMAND_HANDLERS``."""
    handler = COMMAND_HANDLERS.get(type(command))
    if handler is None:
        raise TypeError(f"no handler for command {type(command).__name__}")
    return await handler(command, uow, deps)
