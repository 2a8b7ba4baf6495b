"""Applies records read from the topics to one set of tables with the projections (rebuilds).

Each batch runs in one transaction. If a projection raises, the batch is re-run record by record in
savepoints (a few attempts each, for deadlocks with the live consumers); a record that still fails
is counted and skipped, as the live consumer dead-lettered it. Records that do not parse are
skipped too: they are in ``<topic>.dlq`` already.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
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
from bookshelf_messaging import is_infrastructure_error
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bookshelf_storefront.adapters.stores import SqlStores
from bookshelf_storefront.adapters.tables import Tables
from bookshelf_storefront.service_layer.projections import (
    Projection,
    project,
    project_batch,
    projections_for,
)

ATTEMPTS = 3
MAX_REPORTED = 10


@dataclass
class ReplayCounts:
    """What happened to the records of one phase."""

    read: int = 0
    applied: int = 0
    ignored: int = 0
    invalid: int = 0
    failed: int = 0
    problems: list[str] = field(default_factory=list)

    def note(self, record: ConsumerRecord[Any, Any], error: BaseException) -> None:
        """Remember (the first few) skipped records, with where they are and why."""
        if len(self.problems) < MAX_REPORTED:
            where = f"{record.topic}[{record.partition}]@{record.offset}"
            self.problems.append(f"{where}: {type(error).__name__}: {error}")


@dataclass(slots=True)
class _Item:
    record: ConsumerRecord[Any, Any]
    envelope: Envelope
    message: Message
    chain: list[Projection]


class Replayer:
    """Applies record batches of the given read models into ``tables``."""

    def __init__(
        self, session_factory: async_sessionmaker[AsyncSession], tables: Tables, models: Iterable[str]
    ) -> None:
        self.session_factory = session_factory
        self.tables = tables
        self.chains = projections_for(models)
        self.counts = ReplayCounts()

    def _parse(self, records: Sequence[ConsumerRecord[Any, Any]]) -> list[_Item]:
        items: list[_Item] = []
        for record in records:
            self.counts.read += 1
            try:
                envelope = Envelope.from_json(record.value if record.value is not None else b"")
                chain = self.chains.get(envelope.type)
                if chain is None:
                    self.counts.ignored += 1
                    continue
                items.append(_Item(record, envelope, parse_message(envelope), chain))
            except UnknownMessageType:
                self.counts.ignored += 1
            except (InvalidEnvelope, MessageValidationError) as exc:
                self.counts.invalid += 1
                self.counts.note(record, exc)
        return items

    async def apply(self, records: Sequence[ConsumerRecord[Any, Any]]) -> None:
        """Apply one batch (see module doc); raises only when the database is unreachable."""
        items = self._parse(records)
        if not items:
            return
        try:
            async with self.session_factory() as session, session.begin():
                stores = SqlStores(session, self.tables, batch=True)
                batch = [(item.message, item.envelope.occurred_at) for item in items]
                await project_batch(self.chains, batch, stores)
                await stores.flush_batch()
        except Exception as exc:
            if is_infrastructure_error(exc):
                raise
            await self._apply_singly(items)
            return
        self.counts.applied += len(items)

    async def _apply_singly(self, items: list[_Item]) -> None:
        async with self.session_factory() as session, session.begin():
            stores = SqlStores(session, self.tables)
            for item in items:
                await self._apply_one(session, stores, item)

    async def _apply_one(self, session: AsyncSession, stores: SqlStores, item: _Item) -> None:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                async with session.begin_nested():
                    await project(item.chain, item.message, item.envelope.occurred_at, stores)
                self.counts.applied += 1
                return
            except Exception as exc:
                if is_infrastructure_error(exc):
                    raise
                if attempt == ATTEMPTS:
                    self.counts.failed += 1
                    self.counts.note(item.record, exc)
                    return
                await asyncio.sleep(0.05 * attempt)  # a deadlock with a live consumer clears quickly
