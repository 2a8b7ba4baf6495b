"""Handling the records of one partition: inbox dedup, handler calls, retries and dead letters.

Fast path: every handleable record of the batch in ONE transaction (inbox rows inserted with one
statement; ids already there are duplicates and skipped). If a handler raises, the transaction rolls
back and the batch is re-run one message per transaction. A failing message is then treated by the
kind of its error (``errors.classify_error``): a permanent or data error is dead-lettered at once; a
transient conflict (deadlock, serialization failure, lock timeout, read-only failover) is retried with
backoff without using up the message's retries; any other failure is retried ``max_retries`` times
with exponential backoff and then dead-lettered, so the offset can move on. Infrastructure errors
propagate: the partition's worker rewinds and waits (``_workers``). A dead letter replayed to another
group (``dlq.replay_group``) is skipped (outcome ``replay_for_other_group``).

A ``BatchHandler`` receives every consecutive fresh message of its types in the partition batch in
one call (so a projection can write them with one statement); on the one-by-one path it gets lists
of one. Batch handlers run without per-message correlation context: they suit projections and
replicas that publish nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka.structs import ConsumerRecord
from bookshelf_contracts import (
    Envelope,
    InvalidEnvelope,
    Message,
    MessageValidationError,
    UnknownMessageType,
    parse_message,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bookshelf_messaging import context, metrics, tracing
from bookshelf_messaging.dlq import Failure, replay_target_of
from bookshelf_messaging.errors import (
    ErrorKind,
    classify_error,
    is_infrastructure_error,
    sqlstate_of,
)
from bookshelf_messaging.handlers import AnyHandler, BatchHandler
from bookshelf_messaging.inbox import CLAIM_SQL
from bookshelf_messaging.policy import RetryPolicy

DeadLetterWriter = Callable[[ConsumerRecord[Any, Any], Failure], Awaitable[str]]


@dataclass(slots=True)
class Item:
    """A record that parsed into a message this consumer handles."""

    record: ConsumerRecord[Any, Any]
    envelope: Envelope
    message: Message
    handler: AnyHandler
    message_id: str


@dataclass(slots=True)
class BatchFailure:
    """The handler of ``items[index]`` raised ``error`` during the batch transaction (index -1: a
    batch handler raised for a group of messages, so no single message is to blame)."""

    index: int
    error: Exception
    at: datetime


_DEAD_LETTER_AT_ONCE = frozenset({ErrorKind.PERMANENT, ErrorKind.DATA})


class _HandlerFailed(Exception):
    def __init__(self, failure: BatchFailure) -> None:
        super().__init__(repr(failure.error))
        self.failure = failure


def _now() -> datetime:
    return datetime.now(UTC)


class PartitionProcessor:
    """Processes record batches of one consumer group (one call per partition batch)."""

    def __init__(
        self,
        group: str,
        handlers: Mapping[str, AnyHandler],
        session_factory: async_sessionmaker[AsyncSession],
        dead_letter: DeadLetterWriter,
        policy: RetryPolicy,
    ) -> None:
        self.group = group
        self.handlers = dict(handlers)
        self.session_factory = session_factory
        self.dead_letter = dead_letter
        self.policy = policy
        self._latency: dict[str, Any] = {}

    async def process(self, records: Sequence[ConsumerRecord[Any, Any]]) -> None:
        """Handle, skip or dead-letter every record; raises only for infrastructure failures."""
        outcomes: Counter[str] = Counter()
        items: list[Item] = []
        poison: list[tuple[ConsumerRecord[Any, Any], Exception]] = []
        for record in records:
            if not self.addressed_here(record):
                outcomes["replay_for_other_group"] += 1
                continue
            try:
                item = self.classify(record)
            except (InvalidEnvelope, MessageValidationError) as exc:
                poison.append((record, exc))
                continue
            if item is None:
                outcomes["ignored"] += 1
            else:
                items.append(item)
        if items:
            failure = await self._run_batch(items, outcomes)
            if failure is not None:
                await self._run_singly(items, failure, outcomes)
        for record, error in poison:
            moment = _now()
            await self.dead_letter(record, Failure(error, 1, moment, moment))
            outcomes["dead_lettered"] += 1
        topic = records[0].topic
        for outcome, count in outcomes.items():
            metrics.CONSUMED.labels(self.group, topic, outcome).inc(count)

    def addressed_here(self, record: ConsumerRecord[Any, Any]) -> bool:
        """False for a dead letter replayed to another group (``dlq.replay_group``): only the group
        that failed the record handles its replay, so it is neither multiplied by the groups that
        failed it too nor applied again by those where it had succeeded."""
        target = replay_target_of(record.headers or ())
        return target is None or target == self.group

    def classify(self, record: ConsumerRecord[Any, Any]) -> Item | None:
        """An Item to handle, or None to ignore; raises InvalidEnvelope / MessageValidationError."""
        if record.value is None:
            raise InvalidEnvelope("record has no value (a tombstone) on an event topic")
        envelope = Envelope.from_json(record.value)
        handler = self.handlers.get(envelope.type)
        if handler is None:
            return None  # tolerant reader: types this consumer does not handle are not its business
        try:
            message = parse_message(envelope)
        except UnknownMessageType:
            return None
        return Item(record, envelope, message, handler, str(envelope.message_id))

    async def _run_batch(self, items: list[Item], outcomes: Counter[str]) -> BatchFailure | None:
        local: Counter[str] = Counter()
        try:
            async with self.session_factory() as session, session.begin():
                fresh = await self._claim(session, [item.message_id for item in items])
                selected: list[tuple[int, Item]] = []
                for index, item in enumerate(items):
                    if item.message_id not in fresh:
                        local["duplicate"] += 1
                        continue
                    fresh.discard(item.message_id)  # a second copy within the batch is a duplicate too
                    selected.append((index, item))
                for group in _runs(selected):
                    await self._call_group(group, session)
                    local["handled"] += len(group)
        except _HandlerFailed as failed:
            index = failed.failure.index
            self._count_failure(items[max(index, 0)], failed.failure.error)
            return failed.failure
        except Exception as exc:
            if is_infrastructure_error(exc):
                raise
            # The transaction failed outside a handler (a flush or the commit, e.g. a deadlock or a
            # value the driver cannot encode): no message to blame yet, so each runs on its own.
            self._count_failure(items[0], exc)
            return BatchFailure(-1, exc, _now())
        outcomes.update(local)
        return None

    async def _call_group(self, group: list[tuple[int, Item]], session: AsyncSession) -> None:
        """One handler call for the group (a run of one BatchHandler, or a single message)."""
        first_index, first = group[0]
        try:
            if isinstance(first.handler, BatchHandler):
                await self._call_batch(first.handler, [item for _, item in group], session)
            else:
                await self._call(first, session)
        except Exception as exc:
            if is_infrastructure_error(exc):
                raise
            index = first_index if len(group) == 1 else -1
            raise _HandlerFailed(BatchFailure(index, exc, _now())) from exc

    async def _run_singly(self, items: list[Item], failure: BatchFailure, outcomes: Counter[str]) -> None:
        for index, item in enumerate(items):
            prior = failure if index == failure.index else None
            outcomes[await self._handle_with_retries(item, prior)] += 1

    async def _handle_with_retries(self, item: Item, prior: BatchFailure | None) -> str:
        """One transaction per attempt until it commits or the message is dead-lettered.

        Permanent and data errors dead-letter at once; other failures after ``max_retries`` retries.
        Transient conflicts are retried with backoff outside that budget. Infrastructure errors raise.
        """
        attempts = 1 if prior else 0
        counted = 0  # failures that use up the dead-letter budget
        conflicts = 0  # transient conflicts: they never do
        first_at = last_at = prior.at if prior else None
        error: Exception | None = prior.error if prior else None
        while True:
            if error is not None and first_at is not None and last_at is not None:
                kind = classify_error(error)
                if kind is ErrorKind.TRANSIENT:
                    conflicts += 1
                    self._count_conflict(item, error)
                    delay = self.policy.delay(conflicts)
                else:
                    counted += 1
                    if kind in _DEAD_LETTER_AT_ONCE or counted > self.policy.max_retries:
                        await self.dead_letter(item.record, Failure(error, attempts, first_at, last_at))
                        return "dead_lettered"
                    delay = self.policy.delay(counted)
                await asyncio.sleep(delay)  # backoff between attempts, by design
            attempts += 1
            try:
                return await self._run_one(item)
            except Exception as exc:
                if is_infrastructure_error(exc):
                    raise
                error, last_at = exc, _now()
                first_at = first_at or last_at
                self._count_failure(item, exc)

    async def _run_one(self, item: Item) -> str:
        async with self.session_factory() as session, session.begin():
            if not await self._claim(session, [item.message_id]):
                return "duplicate"
            await self._call(item, session)
        return "handled"

    async def _claim(self, session: AsyncSession, message_ids: list[str]) -> set[str]:
        """Insert inbox rows; returns the ids that were not there yet."""
        result = await session.execute(CLAIM_SQL, {"group": self.group, "ids": message_ids})
        return {str(value) for value in result.scalars()}

    async def _call(self, item: Item, session: AsyncSession) -> None:
        if isinstance(item.handler, BatchHandler):
            await self._call_batch(item.handler, [item], session)
            return
        envelope = item.envelope
        # Correlation from the envelope, causation = this message: outbox rows the handler adds
        # inherit both. (set/reset rather than ``bind``: this runs once per message.)
        tokens = context.set_ids(envelope.correlation_id, item.message_id)
        started = time.perf_counter()
        try:
            with tracing.process(item.record, self.group, item.message_id):
                await item.handler(item.message, envelope, session)
        finally:
            self._histogram(item.record.topic).observe(time.perf_counter() - started)
            context.reset_ids(tokens)

    async def _call_batch(self, handler: BatchHandler, items: list[Item], session: AsyncSession) -> None:
        started = time.perf_counter()
        try:
            with tracing.process_batch([item.record for item in items], self.group):
                await handler.fn([(item.message, item.envelope) for item in items], session)
        finally:
            # The histogram counts messages: each gets the batch's time divided among them.
            share = (time.perf_counter() - started) / len(items)
            histogram = self._histogram(items[0].record.topic)
            for _ in items:
                histogram.observe(share)

    def _histogram(self, topic: str) -> Any:
        child = self._latency.get(topic)
        if child is None:
            child = self._latency[topic] = metrics.HANDLER_LATENCY.labels(self.group, topic)
        return child

    def _count_failure(self, item: Item, error: BaseException) -> None:
        metrics.HANDLER_FAILURES.labels(self.group, item.record.topic, type(error).__name__).inc()

    def _count_conflict(self, item: Item, error: BaseException) -> None:
        state = sqlstate_of(error) or "unknown"
        metrics.TRANSIENT_CONFLICTS.labels(self.group, item.record.topic, state).inc()


def _runs(selected: list[tuple[int, Item]]) -> list[list[tuple[int, Item]]]:
    """Split into handler calls: consecutive messages of one BatchHandler together, others alone."""
    groups: list[list[tuple[int, Item]]] = []
    for entry in selected:
        handler = entry[1].handler
        previous = groups[-1][-1][1].handler if groups else None
        if isinstance(handler, BatchHandler) and handler is previous:
            groups[-1].append(entry)
        else:
            groups.append([entry])
    return groups
