"""The saga's transition function: ``decide(instance, message, now) -> Decision``. Pure: no I/O.

``RULES`` is docs/domain.md's state table, one entry per row (state, message type). Anything else is
recorded in the instance's history and ignored: a duplicate (its id is already in the history), a
late or repeated reply, anything after the end. A message for an order without an instance is
dropped (there is nothing to record it in). Replies to the saga's own commands (OrderConfirmed,
StockReleased, ...) are recorded as "noted": expected, but they move nothing.

A customer's cancel is a request the saga decides (``OrderCancellationRequested``): with a shipment
requested it cancels the shipment first and waits in CANCELLING; stock is released only once shipping
confirmed (ShipmentCancelled, or ShipmentFailed: there is none), and a ShipmentDispatched means the
goods left, so the stock is committed and the order shipped instead. A late success after CANCELLED
(StockReserved, ShipmentCreated) is compensated with a new command, never ignored silently.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from bookshelf_contracts import (
    CancelOrder,
    CancelShipment,
    Command,
    CommitStock,
    ConfirmOrder,
    CreateShipment,
    MarkOrderDelivered,
    MarkOrderShipped,
    OrderCancellationRequested,
    OrderCancelled,
    OrderPlaced,
    ReleaseStock,
    ReserveStock,
    ShipmentCancelled,
    ShipmentCreated,
    ShipmentDelivered,
    ShipmentDispatched,
    ShipmentFailed,
    StockLine,
    StockReservationFailed,
    StockReserved,
)

from bookshelf_fulfillment.domain.messages import (
    DeadlinePassed,
    Incoming,
    OutgoingCommand,
    command_id,
    deadline_message_id,
)
from bookshelf_fulfillment.domain.state import AWAITING, HistoryEntry, SagaState, SagaStatus

DEFAULT_TIMEOUT = timedelta(seconds=60)
MAX_REASON = 1000  # the contracts' Reason length
TIMED_OUT = "timed out"
OUT_OF_STOCK = "out of stock"
CANCEL_REFUSED = "cancellation refused: already dispatched"
CUSTOMER_CANCELS = (OrderCancellationRequested.TYPE, OrderCancelled.TYPE)

# Replies to the saga's own commands: expected, recorded, never a transition.
ACKNOWLEDGEMENTS = frozenset(
    {
        "OrderConfirmed",
        "OrderShipped",
        "OrderDelivered",
        "StockReleased",
        "StockCommitted",
        "ShipmentCancelled",
    }
)


class Outcome(StrEnum):
    """What a decision did: moved the saga, noted a reply, ignored a message, or dropped it."""

    TRANSITION = "transition"
    COMPENSATED = "compensated"
    NOTED = "noted"
    IGNORED = "ignored"
    DROPPED = "dropped"


@dataclass(frozen=True, slots=True)
class Decision:
    """The new state to store (None: store nothing), the commands to send, what was done, and the
    history entry that records it (None when nothing is stored)."""

    new_state: SagaState | None
    commands: tuple[OutgoingCommand, ...]
    action_note: str
    outcome: Outcome
    from_state: SagaStatus | None = None
    entry: HistoryEntry | None = None

    @property
    def to_state(self) -> SagaStatus | None:
        """The state after the decision (None when nothing is stored)."""
        return self.new_state.state if self.new_state is not None else None


@dataclass(frozen=True, slots=True)
class Step:
    """One message meeting one instance: the helpers every rule builds its decision with."""

    instance: SagaState
    incoming: Incoming
    now: datetime
    timeout: timedelta = field(default=DEFAULT_TIMEOUT)

    def command(self, command: Command) -> OutgoingCommand:
        """``command`` with a deterministic id, the correlation id carried over, caused by the message."""
        cause = self.incoming.message_id
        return OutgoingCommand(
            command=command,
            message_id=command_id(cause, command.TYPE, self.instance.order_id),
            correlation_id=self.incoming.correlation_id,
            causation_id=cause,
        )

    def transition(self, to: SagaStatus, commands: Sequence[Command], note: str, **facts: object) -> Decision:
        """Move to ``to`` sending ``commands``; a state with a deadline gets a fresh one."""
        sent = tuple(self.command(c) for c in commands)
        action = f"{note}; sent {', '.join(c.type for c in sent)}" if sent else note
        action = f"{action} -> {to.value}"
        deadline = self.now + self.timeout if to.has_deadline else None
        update = {"state": to, "updated_at": self.now, "deadline": deadline, **facts}
        update["deadline_set_by"] = self.incoming.message_id if deadline else None
        entry = self.entry(action)
        moved = self.instance.model_copy(update=update).recorded(entry)
        return Decision(moved, sent, action, Outcome.TRANSITION, self.instance.state, entry)

    def record(self, outcome: Outcome, why: str, **facts: object) -> Decision:
        """Record the message without a transition (``noted`` or ``ignored``); ``facts`` learnt
        from it (a shipment id) are kept."""
        action = f"{outcome.value}: {why}"
        entry = self.entry(action)
        kept = self.instance.model_copy(update=facts) if facts else self.instance
        return Decision(kept.recorded(entry), (), action, outcome, self.instance.state, entry)

    def compensate(self, command: Command, why: str) -> Decision:
        """Answer a late success after the end with ``command`` (its id derived from the late
        message, so a new one); the state stays."""
        sent = self.command(command)
        action = f"compensated: {why}; sent {sent.type}"
        entry = self.entry(action)
        kept = self.instance.recorded(entry)
        return Decision(kept, (sent,), action, Outcome.COMPENSATED, self.instance.state, entry)

    def entry(self, action: str) -> HistoryEntry:
        """The history entry of this message."""
        return HistoryEntry(
            message_id=self.incoming.message_id, event=self.incoming.type, at=self.now, action=action
        )


def decide(
    instance: SagaState | None, message: Incoming, now: datetime, *, timeout: timedelta = DEFAULT_TIMEOUT
) -> Decision:
    """The saga's answer to ``message`` given the order's ``instance`` (None: no saga yet) at ``now``."""
    if instance is None:
        if isinstance(message.message, OrderPlaced):
            return _start(message.message, message, now, timeout)
        return Decision(None, (), f"dropped: {message.type} for an order without saga", Outcome.DROPPED)
    step = Step(instance, message, now, timeout)
    if instance.has_handled(message.message_id):
        return step.record(Outcome.IGNORED, "duplicate (message already handled)")
    rule = RULES.get((instance.state, message.type))
    if rule is not None:
        return rule(step)
    if message.type in ACKNOWLEDGEMENTS or (
        message.type in CUSTOMER_CANCELS and instance.state is SagaStatus.CANCELLED
    ):
        return step.record(Outcome.NOTED, "reply to a saga command, no transition")
    if instance.state.is_final:
        return step.record(Outcome.IGNORED, f"{message.type} after the end ({instance.state.value})")
    return step.record(Outcome.IGNORED, f"{message.type} does not fit {instance.state.value}")


def _start(placed: OrderPlaced, message: Incoming, now: datetime, timeout: timedelta) -> Decision:
    lines = tuple(StockLine(book_id=line.book_id, quantity=line.quantity) for line in placed.lines)
    seed = SagaState(
        order_id=placed.order_id,
        state=SagaStatus.AWAITING_STOCK,
        correlation_id=message.correlation_id,
        lines=lines,
        address=placed.shipping_address,
        created_at=now,
        updated_at=now,
    )
    started = Step(seed, message, now, timeout).transition(
        SagaStatus.AWAITING_STOCK,
        [ReserveStock(order_id=placed.order_id, lines=list(lines))],
        "order placed",
        reserve_requested=True,
    )
    return Decision(
        started.new_state, started.commands, started.action_note, Outcome.TRANSITION, None, started.entry
    )


def _reason(text: str) -> str:
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 3] + "..."


# --- the rows of the table in docs/domain.md ---------------------------------------------------------


def _stock_reserved(step: Step) -> Decision:
    order = step.instance
    create = CreateShipment(order_id=order.order_id, address=order.address, lines=list(order.lines))
    commands = [ConfirmOrder(order_id=order.order_id), create]
    return step.transition(
        SagaStatus.AWAITING_SHIPMENT, commands, "stock reserved", reserved=True, shipment_requested=True
    )


def _stock_reservation_failed(step: Step) -> Decision:
    failed = step.incoming.message
    assert isinstance(failed, StockReservationFailed)
    cancel = CancelOrder(order_id=failed.order_id, reason=OUT_OF_STOCK, short_lines=failed.short_lines)
    return step.transition(SagaStatus.CANCELLED, [cancel], OUT_OF_STOCK, cancel_reason=OUT_OF_STOCK)


def _shipment_created(step: Step) -> Decision:
    created = step.incoming.message
    assert isinstance(created, ShipmentCreated)
    return step.transition(
        SagaStatus.AWAITING_DISPATCH,
        [],
        f"shipment created, tracking number {created.tracking_number}",
        shipment_id=created.shipment_id,
        tracking_number=created.tracking_number,
    )


def _shipment_failed(step: Step) -> Decision:
    failed = step.incoming.message
    assert isinstance(failed, ShipmentFailed)
    reason = _reason(f"shipment failed: {failed.reason}")
    commands = [ReleaseStock(order_id=failed.order_id), CancelOrder(order_id=failed.order_id, reason=reason)]
    return step.transition(SagaStatus.CANCELLED, commands, reason, cancel_reason=reason)


def _shipment_dispatched(step: Step) -> Decision:
    dispatched = step.incoming.message
    assert isinstance(dispatched, ShipmentDispatched)
    order_id, tracking = dispatched.order_id, dispatched.tracking_number
    commands = [CommitStock(order_id=order_id), MarkOrderShipped(order_id=order_id, tracking_number=tracking)]
    return step.transition(SagaStatus.SHIPPED, commands, "shipment dispatched", tracking_number=tracking)


def _shipment_delivered(step: Step) -> Decision:
    delivered = step.incoming.message
    assert isinstance(delivered, ShipmentDelivered)
    commands = [MarkOrderDelivered(order_id=delivered.order_id)]
    return step.transition(SagaStatus.DELIVERED, commands, "shipment delivered")


def _cancel_requested(step: Step) -> Decision:
    """Customer cancel while AWAITING_*: only the saga knows whether the goods left.

    With a CreateShipment sent, cancel the shipment first and wait for shipping's answer
    (CANCELLING); without one, release what was requested and cancel the order. Commands of one
    order travel one partition in order, so a ReleaseStock sent after ReserveStock is applied after
    it even when no reply arrived yet. An ``OrderCancelled`` here comes from an ordering that
    cancelled at once (before cancellation requests): it is handled the same way.
    """
    request = step.incoming.message
    assert isinstance(request, OrderCancellationRequested | OrderCancelled)
    order = step.instance
    note = f"cancellation requested ({request.reason})"
    if order.shipment_requested:
        cancel = CancelShipment(order_id=order.order_id, reason=_reason(f"order cancelled: {request.reason}"))
        return step.transition(SagaStatus.CANCELLING, [cancel], note, cancel_reason=request.reason)
    commands: list[Command] = []
    if order.reserve_requested:
        commands.append(ReleaseStock(order_id=order.order_id))
    commands.append(CancelOrder(order_id=order.order_id, reason=request.reason))
    return step.transition(SagaStatus.CANCELLED, commands, note, cancel_reason=request.reason)


def _shipment_gone(step: Step) -> Decision:
    """CANCELLING: shipping confirmed there is no shipment to send (cancelled, or never created), so
    the stock goes back and the order is cancelled."""
    order = step.instance
    reason = order.cancel_reason or "customer request"
    if isinstance(step.incoming.message, ShipmentFailed):
        note = f"no shipment ({step.incoming.message.reason})"
    else:
        note = "shipment cancelled"
    commands = [ReleaseStock(order_id=order.order_id), CancelOrder(order_id=order.order_id, reason=reason)]
    return step.transition(SagaStatus.CANCELLED, commands, _reason(note))


def _cancel_refused(step: Step) -> Decision:
    """CANCELLING: the shipment was dispatched before shipping saw the cancel. The goods left, so the
    stock is committed (never released) and the order shipped; its history records the refusal."""
    dispatched = step.incoming.message
    assert isinstance(dispatched, ShipmentDispatched)
    order_id, tracking = dispatched.order_id, dispatched.tracking_number
    commands = [CommitStock(order_id=order_id), MarkOrderShipped(order_id=order_id, tracking_number=tracking)]
    return step.transition(
        SagaStatus.SHIPPED, commands, CANCEL_REFUSED, tracking_number=tracking, cancel_reason=None
    )


def _shipment_created_while_cancelling(step: Step) -> Decision:
    created = step.incoming.message
    assert isinstance(created, ShipmentCreated)
    why = f"shipment created ({created.tracking_number}), its cancel is on its way"
    return step.record(
        Outcome.NOTED, why, shipment_id=created.shipment_id, tracking_number=created.tracking_number
    )


def _too_late_to_cancel(step: Step) -> Decision:
    """SHIPPED or DELIVERED: the goods left; ordering records the refusal with MarkOrderShipped (or
    answered the request with a 409), so nothing is sent."""
    return step.record(Outcome.NOTED, CANCEL_REFUSED)


def _late_reservation(step: Step) -> Decision:
    """CANCELLED: a reservation that succeeded after the end (a replayed ReserveStock) is released."""
    order_id = step.instance.order_id
    return step.compensate(ReleaseStock(order_id=order_id), "StockReserved after the end (CANCELLED)")


def _late_shipment(step: Step) -> Decision:
    """CANCELLED: a shipment created after the end (a replayed CreateShipment) is cancelled."""
    order_id = step.instance.order_id
    reason = _reason(f"order cancelled: {step.instance.cancel_reason or 'saga ended'}")
    return step.compensate(
        CancelShipment(order_id=order_id, reason=reason), "ShipmentCreated after the end (CANCELLED)"
    )


def deadline_passed(instance: SagaState) -> Incoming:
    """The timer's message for an instance whose deadline passed: one id per (order, deadline), so the
    timeout's commands get the same ids whenever the step runs again."""
    assert instance.deadline is not None
    message = DeadlinePassed(
        order_id=instance.order_id, deadline=instance.deadline, state=instance.state.value
    )
    message_id = deadline_message_id(instance.order_id, instance.deadline)
    return Incoming(str(message_id), instance.correlation_id, message)


def _deadline_passed(step: Step) -> Decision:
    passed = step.incoming.message
    assert isinstance(passed, DeadlinePassed)
    order = step.instance
    if order.deadline is None or passed.deadline != order.deadline:
        return step.record(Outcome.IGNORED, "stale deadline (the saga moved on since it was set)")
    commands = [
        ReleaseStock(order_id=order.order_id),
        CancelShipment(order_id=order.order_id, reason=TIMED_OUT),
        CancelOrder(order_id=order.order_id, reason=TIMED_OUT),
    ]
    note = f"deadline passed in {order.state.value}"
    return step.transition(SagaStatus.CANCELLED, commands, note, cancel_reason=TIMED_OUT)


Rule = Callable[[Step], Decision]

RULES: dict[tuple[SagaStatus, str], Rule] = {
    (SagaStatus.AWAITING_STOCK, StockReserved.TYPE): _stock_reserved,
    (SagaStatus.AWAITING_STOCK, StockReservationFailed.TYPE): _stock_reservation_failed,
    (SagaStatus.AWAITING_SHIPMENT, ShipmentCreated.TYPE): _shipment_created,
    (SagaStatus.AWAITING_SHIPMENT, ShipmentFailed.TYPE): _shipment_failed,
    (SagaStatus.AWAITING_DISPATCH, ShipmentDispatched.TYPE): _shipment_dispatched,
    (SagaStatus.SHIPPED, ShipmentDelivered.TYPE): _shipment_delivered,
    **{(state, kind): _cancel_requested for state in AWAITING for kind in CUSTOMER_CANCELS},
    (SagaStatus.CANCELLING, ShipmentCancelled.TYPE): _shipment_gone,
    (SagaStatus.CANCELLING, ShipmentFailed.TYPE): _shipment_gone,
    (SagaStatus.CANCELLING, ShipmentDispatched.TYPE): _cancel_refused,
    (SagaStatus.CANCELLING, ShipmentCreated.TYPE): _shipment_created_while_cancelling,
    (SagaStatus.SHIPPED, OrderCancellationRequested.TYPE): _too_late_to_cancel,
    (SagaStatus.DELIVERED, OrderCancellationRequested.TYPE): _too_late_to_cancel,
    (SagaStatus.CANCELLED, StockReserved.TYPE): _late_reservation,
    (SagaStatus.CANCELLED, ShipmentCreated.TYPE): _late_shipment,
    (SagaStatus.AWAITING_STOCK, DeadlinePassed.TYPE): _deadline_passed,
    (SagaStatus.AWAITING_SHIPMENT, DeadlinePassed.TYPE): _deadline_passed,
}
