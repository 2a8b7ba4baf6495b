"""Ordering's use cases: placing and cancelling orders (HTTP) and the saga's commands (Kafka).

Command policy (documented in the README): a saga command that the status machine forbids (for
example MarkOrderShipped on a CANCELLED order) is a fact about a race, not a broken message. It is
logged, counted in ``bookshelf_ordering_commands_rejected_total`` and acknowledged, so it never
retries or lands in the DLQ. A command for an order that does not exist raises ``OrderNotFound``,
which the consumer wiring turns into a dead letter (someone must look at it).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog
from bookshelf_contracts import (
    Address,
    CancelOrder,
    Command,
    ConfirmOrder,
    Customer,
    MarkOrderDelivered,
    MarkOrderShipped,
    Message,
)
from bookshelf_servicekit.idempotency import IdempotencyRequest, StoredResponse, run_idempotent
from prometheus_client import Counter

from bookshelf_ordering.domain.exceptions import OrderNotFound, TransitionNotAllowed
from bookshelf_ordering.domain.model import Order
from bookshelf_ordering.domain.placement import RequestedLine
from bookshelf_ordering.domain.reasons import CUSTOMER_REQUEST, cancellation_reason
from bookshelf_ordering.service_layer.access import OrderTokens
from bookshelf_ordering.service_layer.unit_of_work import UnitOfWork
from bookshelf_ordering.service_layer.views import order_json

log = structlog.get_logger("bookshelf.ordering")

COMMANDS_REJECTED = Counter(
    "bookshelf_ordering_commands_rejected_total",
    "Saga commands acknowledged without effect because the order's status forbids them",
    ["command", "status"],
)
TRANSITIONS = Counter(
    "bookshelf_ordering_transitions_total", "Order status changes made", ["action", "outcome"]
)


@dataclass(frozen=True, slots=True)
class PlaceOrder:
    """Place an order for a customer (the HTTP request as a command)."""

    customer: Customer
    shipping_address: Address
    items: tuple[RequestedLine, ...]


async def place_order(
    command: PlaceOrder,
    uow: UnitOfWork,
    idempotency: IdempotencyRequest | None = None,
    *,
    tokens: OrderTokens,
) -> StoredResponse:
    """Price the lines from the replica, store a PENDING order and its OrderPlaced event.

    With an Idempotency-Key the key, the order and the event commit together; a repeat of the key
    answers the stored first response (raises IdempotencyKeyReused for a different body). The answer
    carries the order's ``access_token``; the order row stores only its hash, and the stored answer
    of an Idempotency-Key none of it: a replay derives the same token again from the order id.
    """

    async def work() -> dict[str, Any]:
        """The effect: runs once per Idempotency-Key."""
        catalog = await uow.books.get_many({item.book_id for item in command.items})
        order = Order.place(
            order_id=uuid.uuid4(),
            customer=command.customer,
            shipping_address=command.shipping_address,
            items=command.items,
            catalog=catalog,
            now=uow.now(),
        )
        await uow.orders.add(order, access_token_hash=tokens.hash_for(order.order_id))
        return order_json(order)

    answer = await run_idempotent(uow.idempotency, idempotency, work, status_code=201)
    await uow.commit()
    token = tokens.token_for(uuid.UUID(answer.body["order_id"]))
    return StoredResponse(answer.status_code, {**answer.body, "access_token": token}, answer.replayed)


async def cancel_by_customer(order_id: uuid.UUID, uow: UnitOfWork) -> dict[str, Any]:
    """Record the customer's cancellation request (OrderCancellationRequested); the saga decides.

    A repeat, or a request for a CANCELLED order, changes nothing; SHIPPED or DELIVERED raise
    TransitionNotAllowed (409).
    """
    order = await _locked(uow, order_id)
    changed = order.request_cancellation(CUSTOMER_REQUEST, uow.now())
    if changed:
        await uow.orders.save(order)
    TRANSITIONS.labels("request_cancel", "changed" if changed else "repeat").inc()
    await uow.commit()
    return order_json(order)


async def _locked(uow: UnitOfWork, order_id: uuid.UUID) -> Order:
    order = await uow.orders.get_for_update(order_id)
    if order is None:
        raise OrderNotFound(order_id)
    return order


async def _apply(
    uow: UnitOfWork, command: Command, order_id: uuid.UUID, action: str, change: Callable[[Order], bool]
) -> None:
    """Run one saga command's transition under the row lock; rejections are logged and acknowledged."""
    order = await _locked(uow, order_id)
    try:
        changed = change(order)
    except TransitionNotAllowed as exc:
        COMMANDS_REJECTED.labels(command.TYPE, order.status.value).inc()
        TRANSITIONS.labels(action, "rejected").inc()
        log.warning(
            "ordering.command_rejected",
            command=command.TYPE,
            order_id=str(order_id),
            status=order.status.value,
            reason=str(exc),
        )
        return
    TRANSITIONS.labels(action, "changed" if changed else "repeat").inc()
    if changed:
        await uow.orders.save(order)
    await uow.commit()


async def confirm_order(command: ConfirmOrder, uow: UnitOfWork) -> None:
    """ConfirmOrder: PENDING -> CONFIRMED (OrderConfirmed)."""
    await _apply(uow, command, command.order_id, "confirm", lambda order: order.confirm(uow.now()))


async def cancel_order(command: CancelOrder, uow: UnitOfWork) -> None:
    """CancelOrder: PENDING|CONFIRMED -> CANCELLED with the reason (and short lines) as text."""
    reason = cancellation_reason(command.reason, command.short_lines)
    await _apply(uow, command, command.order_id, "cancel", lambda order: order.cancel(reason, uow.now()))


async def mark_order_shipped(command: MarkOrderShipped, uow: UnitOfWork) -> None:
    """MarkOrderShipped: CONFIRMED -> SHIPPED with the tracking number (OrderShipped)."""
    await _apply(
        uow,
        command,
        command.order_id,
        "ship",
        lambda order: order.ship(command.tracking_number, uow.now()),
    )


async def mark_order_delivered(command: MarkOrderDelivered, uow: UnitOfWork) -> None:
    """MarkOrderDelivered: SHIPPED -> DELIVERED (OrderDelivered)."""
    await _apply(uow, command, command.order_id, "deliver", lambda order: order.deliver(uow.now()))


CommandHandler = Callable[[Any, UnitOfWork], Awaitable[None]]

# The commands of ordering.commands and their handlers.
COMMAND_HANDLERS: dict[type[Message], CommandHandler] = {
    ConfirmOrder: confirm_order,
    CancelOrder: cancel_order,
    MarkOrderShipped: mark_order_shipped,
    MarkOrderDelivered: mark_order_delivered,
}
