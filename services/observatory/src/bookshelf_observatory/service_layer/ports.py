"""What the observatory's use cases need from the outside: the index, the broker and the services.

``adapters.index_queries``, ``adapters.probes`` and ``adapters.kafka_groups`` implement these
(``bootstrap`` passes them in), so the use cases never import an adapter.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import httpx
from bookshelf_messaging import KafkaSettings
from sqlalchemy.ext.asyncio import AsyncConnection

from bookshelf_observatory.domain.records import DeadLetterMeta, IndexedMessage

Committed = dict[str, dict[tuple[str, int], int]]


class IndexQueries(Protocol):
    """Reads of the index database."""

    async def correlation_ids_for(self, conn: AsyncConnection, query: str) -> list[str]:
        """``query`` when it is a correlation id, else the correlation ids of records keyed by it."""
        ...

    async def trace_rows(
        self, conn: AsyncConnection, correlation_ids: Sequence[str]
    ) -> tuple[list[IndexedMessage], list[DeadLetterMeta]]:
        """Every indexed record and dead letter of these correlation ids."""
        ...

    async def high_watermarks(self, conn: AsyncConnection) -> dict[tuple[str, int], int]:
        """The last fetch high watermark of every partition the indexer reads."""
        ...

    async def record_times(
        self, conn: AsyncConnection, coordinates: Sequence[tuple[str, int, int]]
    ) -> dict[tuple[str, int, int], Any]:
        """The record timestamp at each (topic, partition, offset) that is indexed."""
        ...

    async def throughput(self, conn: AsyncConnection) -> list[dict[str, Any]]:
        """Records per topic over the last minutes."""
        ...

    async def dlq_depth(self, conn: AsyncConnection) -> dict[str, int]:
        """Open dead letters per ``.dlq`` topic."""
        ...

    async def list_dead_letters(
        self, conn: AsyncConnection, *, topic: str | None = None, open_only: bool = True, limit: int = 100
    ) -> list[DeadLetterMeta]:
        """Dead letters, newest first."""
        ...

    async def get_dead_letter(self, conn: AsyncConnection, entry_id: str) -> DeadLetterMeta | None:
        """The latest record of an entry, or None."""
        ...


class IndexWriter(Protocol):
    """The one write the use cases make to the index."""

    async def mark_closed(self, conn: AsyncConnection, entry_ids: Sequence[str], by: str) -> None:
        """Close entries right away after a replay or purge."""
        ...


class Probes(Protocol):
    """The services' HTTP endpoints the overview and the saga page read."""

    async def all_health(self, client: httpx.AsyncClient, urls: dict[str, str]) -> list[dict[str, Any]]:
        """Health of every watched service."""
        ...

    async def all_outboxes(
        self, client: httpx.AsyncClient, urls: dict[str, str], database_urls: dict[str, str]
    ) -> list[dict[str, Any]]:
        """The outbox of every watched service that has one."""
        ...

    async def saga_states(self, client: httpx.AsyncClient, url: str) -> list[dict[str, Any]]:
        """Per state: ``{state, count, oldest}`` (counted by the database)."""
        ...

    async def overdue_sagas(
        self, client: httpx.AsyncClient, url: str, now: str, pages: int = 2
    ) -> list[dict[str, Any]]:
        """Instances whose deadline is before ``now``."""
        ...

    async def saga_instances(
        self, client: httpx.AsyncClient, url: str, state: str | None = None
    ) -> list[dict[str, Any]]:
        """Every saga instance, page by page."""
        ...


class ConsumerGroups(Protocol):
    """Committed offsets of the broker's consumer groups (a blocking call, run in a thread)."""

    def committed_offsets(self, kafka: KafkaSettings, *, timeout_s: float = 5.0) -> Committed:
        """``{group: {(topic, partition): committed offset}}``."""
        ...
