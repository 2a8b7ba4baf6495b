"""Handle one message: decide, send the commands, then write the table. The order is the guarantee.

Commands are sent and acknowledged by the broker *before* the new state is written. A crash between
the two leaves the old state (and an uncommitted offset): the message is redelivered, decided again
against the same state, and the same commands go out again with the same deterministic ids, which the
receivers' inbox drops. A crash after the write cannot lose a command either: they were already sent.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol

import structlog

from bookshelf_fulfillment import metrics
from bookshelf_fulfillment.adapters.deadlines import DeadlineIndex
from bookshelf_fulfillment.adapters.records import OutgoingRecord, command_record
from bookshelf_fulfillment.domain.messages import Incoming
from bookshelf_fulfillment.domain.saga import DEFAULT_TIMEOUT, Decision, Outcome, decide
from bookshelf_fulfillment.domain.state import SagaState

log = structlog.get_logger("bookshelf.fulfillment")


class StateStore(Protocol):
    """The instances, keyed by order_id (the faust table in production)."""

    def get(self, key: str) -> SagaState | None:
        """The instance of ``key``, or None."""
        ...

    def put(self, key: str, state: SagaState) -> None:
        """Store ``state`` as the instance of ``key``."""
        ...


class RecordSender(Protocol):
    """Produces records; returns only once the broker acknowledged every one of them."""

    async def send_all(self, records: Sequence[OutgoingRecord]) -> None:
        """Produce ``records`` (in order per topic partition) and wait for their acknowledgements."""
        ...


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


class SagaProcessor:
    """Applies ``decide`` to incoming messages against a store, sending commands through a sender."""

    def __init__(
        self,
        store: StateStore,
        sender: RecordSender,
        deadlines: DeadlineIndex | None = None,
        *,
        timeout: timedelta = DEFAULT_TIMEOUT,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store = store
        self.sender = sender
        self.deadlines = deadlines if deadlines is not None else DeadlineIndex()
        self.timeout = timeout
        self.clock = clock

    async def handle(self, incoming: Incoming) -> Decision:
        """Decide, send the decision's commands (acknowledged), then store the new state."""
        started = time.perf_counter()
        key = str(incoming.order_id)
        decision = decide(self.store.get(key), incoming, self.clock(), timeout=self.timeout)
        if decision.commands:
            await self.sender.send_all([command_record(c) for c in decision.commands])
            metrics.observe_sent([c.type for c in decision.commands])
        if decision.new_state is not None:
            self.store.put(key, decision.new_state)
            self.deadlines.track(key, decision.new_state)
        metrics.observe(decision, incoming.type)
        metrics.HANDLE_SECONDS.observe(time.perf_counter() - started)
        _log(incoming, decision)
        return decision


def _log(incoming: Incoming, decision: Decision) -> None:
    event = "saga.transition" if decision.outcome is Outcome.TRANSITION else f"saga.{decision.outcome.value}"
    log.info(
        event,
        order_id=str(incoming.order_id),
        message_type=incoming.type,
        message_id=incoming.message_id,
        correlation_id=incoming.correlation_id,
        action=decision.action_note,
        commands=[str(c.message_id) for c in decision.commands],
    )
