"""What a saga step needs from storage: saga instances, always in the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol
from uuid import UUID

from bookshelf_messaging import Outbox
from sqlalchemy.ext.asyncio import AsyncSession

from bookshelf_fulfillment.domain.saga import Decision
from bookshelf_fulfillment.domain.state import SagaState


class SagaStore(Protocol):
    """Saga instances: locked reads and the write of a decision (adapters.repository is the SQL one)."""

    async def lock(self, session: AsyncSession, order_id: UUID) -> SagaState | None:
        """The instance of ``order_id`` (None: no saga yet), locked until the transaction ends."""
        ...

    async def lock_expired(self, session: AsyncSession, now: datetime, limit: int) -> list[SagaState]:
        """Up to ``limit`` instances whose deadline passed, locked; rows others hold are skipped."""
        ...

    async def save(self, session: AsyncSession, outbox: Outbox, decision: Decision, *, existed: bool) -> None:
        """Write what ``decision`` changed: the instance, its history entry, and its commands."""
        ...
