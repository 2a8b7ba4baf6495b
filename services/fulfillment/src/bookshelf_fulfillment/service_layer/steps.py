"""One saga step, in the caller's PostgreSQL transaction: lock the instance, decide, write it all.

The consumer runner's policy (``bookshelf_messaging``) has already claimed the message's inbox row
in the same transaction, so a redelivered message changes nothing. The instance row is read
``FOR UPDATE``; ``decide`` applies docs/domain.md's table; the new state, one history row and the commands
(outbox rows with deterministic ids) are written; the transaction commits all of it or none, and
only then is the input offset committed. The shared relay publishes the commands.

The deadline timer runs the same step for instances it claimed with ``SKIP LOCKED``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import structlog
from bookshelf_contracts import Envelope, Message
from bookshelf_messaging import Outbox
from sqlalchemy.ext.asyncio import AsyncSession

from bookshelf_fulfillment import metrics
from bookshelf_fulfillment.domain.messages import Incoming
from bookshelf_fulfillment.domain.saga import DEFAULT_TIMEOUT, Decision, Outcome, deadline_passed, decide
from bookshelf_fulfillment.domain.state import SagaState
from bookshelf_fulfillment.service_layer.ports import SagaStore

log = structlog.get_logger("bookshelf.fulfillment")


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


class SagaSteps:
    """Applies ``decide`` to messages and expired deadlines inside the caller's transaction."""

    def __init__(
        self,
        outbox: Outbox,
        *,
        store: SagaStore,
        timeout: timedelta = DEFAULT_TIMEOUT,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.outbox = outbox
        self.store = store
        self.timeout = timeout
        self.clock = clock

    async def on_message(self, message: Message, envelope: Envelope, session: AsyncSession) -> None:
        """Handler of every type the saga reads (the consumer runner's ``handler(message, envelope,
        session)`` contract): the step for the message's order."""
        incoming = Incoming(str(envelope.message_id), envelope.correlation_id, message)
        if incoming.order_id is None:
            return  # not about an order: nothing for the saga
        instance = await self.store.lock(session, incoming.order_id)
        await self.apply(session, instance, incoming)

    async def expire_due(self, session: AsyncSession, limit: int) -> int:
        """Cancel up to ``limit`` instances whose deadline passed (claimed ``SKIP LOCKED``); how many."""
        due = await self.store.lock_expired(session, self.clock(), limit)
        for instance in due:
            await self.apply(session, instance, deadline_passed(instance))
        return len(due)

    async def apply(self, session: AsyncSession, instance: SagaState | None, incoming: Incoming) -> Decision:
        """Decide ``incoming`` against the locked ``instance`` and write the outcome."""
        started = time.perf_counter()
        decision = decide(instance, incoming, self.clock(), timeout=self.timeout)
        await self.store.save(session, self.outbox, decision, existed=instance is not None)
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
