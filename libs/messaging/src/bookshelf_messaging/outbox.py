"""The transactional outbox: event rows written in the caller's transaction, published by the relay.

``Outbox.add`` wraps a message in its envelope (producer = the service, correlation and causation ids
from ``bookshelf_messaging.context``) and inserts one row into ``outbox`` through the caller's
session, so the event exists exactly when the business change commits. ``add_many`` inserts any
number of rows with one statement (bulk imports of 50,000 books go through it).

Both refuse an event whose Kafka record would exceed ``limits.MAX_RECORD_BYTES`` with
``MessageTooLarge``, before writing anything: the broker would never take it. A row the broker
refuses anyway is parked by the relay (``parked_at``, ``parked_error``; see ``bookshelf_messaging.parked``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal
from uuid import UUID

import orjson
import sqlalchemy as sa
from bookshelf_contracts import Envelope, Message, bulk, key_for, topic_for
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bookshelf_messaging import context, tracing
from bookshelf_messaging.errors import MessageTooLarge
from bookshelf_messaging.limits import MAX_RECORD_BYTES, record_size

OUTBOX_TABLE = "outbox"
Lane = Literal["primary", "bulk"]


# One event waiting to be (or already) published: topic, key, envelope JSON and headers. SQLAlchemy
# Core, like every table of the services (docs/adr/0012-sqlalchemy-core-for-every-table.md).
outbox_table = sa.Table(
    OUTBOX_TABLE,
    sa.MetaData(),
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("topic", sa.Text, nullable=False),
    sa.Column("key", sa.Text, nullable=True),
    sa.Column("value", sa.LargeBinary, nullable=False),
    sa.Column("headers", JSONB, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
    # Set by the relay when the broker refuses the row for good (too large, invalid): the relay skips
    # it until an operator retries it (``parked.retry_parked``) or drops it.
    sa.Column("parked_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("parked_error", sa.Text, nullable=True),
    # The relay reads unpublished rows in id order; the partial index stays as small as the backlog.
    sa.Index("ix_outbox_unpublished", "id", postgresql_where=sa.text("published_at IS NULL")),
)


# unnest over arrays: one statement and one prepared plan whatever the number of rows (a VALUES list
# would hit asyncpg's 32,767-parameter limit at ~8,000 rows and re-plan for every size).
_INSERT_SQL = sa.text(
    "INSERT INTO outbox (topic, key, value, headers) "
    "SELECT t, k, v, CAST(h AS jsonb) FROM unnest("
    "CAST(:topics AS text[]), CAST(:keys AS text[]), CAST(:vals AS bytea[]), CAST(:hdrs AS text[])"
    ") AS u(t, k, v, h)"
)
_INSERT_ONE_SQL = sa.text(
    "INSERT INTO outbox (topic, key, value, headers) VALUES (:topic, :key, :val, CAST(:hdrs AS jsonb))"
)


def encode_headers(headers: Iterable[tuple[str, bytes]]) -> str:
    """Kafka headers as the JSON text stored in ``outbox.headers`` (``[[name, value], ...]``)."""
    return orjson.dumps([[name, value.decode()] for name, value in headers]).decode()


def decode_headers(stored: str | list[list[str]]) -> list[tuple[str, bytes]]:
    """The inverse of ``encode_headers`` (accepts the JSON text or the decoded list)."""
    pairs = orjson.loads(stored) if isinstance(stored, str) else stored
    return [(name, value.encode()) for name, value in pairs]


def check_size(topic: str, key: str | None, value: bytes, headers: Iterable[tuple[str, bytes]]) -> None:
    """Raise ``MessageTooLarge`` when the record would exceed ``limits.MAX_RECORD_BYTES``."""
    size = record_size(key.encode() if key is not None else None, value, headers)
    if size > MAX_RECORD_BYTES:
        raise MessageTooLarge(topic, size, MAX_RECORD_BYTES)


def resolve_topic(message: Message, *, lane: Lane = "primary", topic: str | None = None) -> str:
    """The topic of a message on a lane: its primary topic (or ``topic``), ``<topic>.bulk`` for bulk."""
    if lane not in ("primary", "bulk"):
        raise ValueError(f"lane must be 'primary' or 'bulk', got {lane!r}")
    base = topic or topic_for(message)
    return bulk(base) if lane == "bulk" else base


class Outbox:
    """Writes events of one service into its ``outbox`` table, inside the caller's transaction."""

    def __init__(self, service: str) -> None:
        self.service = service

    def wrap(self, message: Message, *, message_id: UUID | None = None) -> Envelope:
        """The envelope of ``message`` with this service as producer and the bound context ids
        (``message_id``: a deterministic id, so a message written again after a crash keeps it)."""
        bound = context.current()
        return Envelope.wrap(
            message,
            producer=self.service,
            correlation_id=bound.correlation_id or context.new_correlation_id(),
            causation_id=bound.causation_id,
            message_id=message_id,
        )

    async def add(
        self,
        session: AsyncSession | AsyncConnection,
        message: Message,
        *,
        key: str | None = None,
        lane: Lane = "primary",
        topic: str | None = None,
        message_id: UUID | None = None,
    ) -> Envelope:
        """Insert one event; key defaults to the topic's key field, topic to the message type's topic.

        Raises ``MessageTooLarge`` (nothing written) when its record would exceed the size limit.
        """
        envelope = self.wrap(message, message_id=message_id)
        target = resolve_topic(message, lane=lane, topic=topic)
        record_key = key if key is not None else key_for(message)
        value = envelope.to_json()
        with tracing.outbox_write((target,)) as span:
            headers = tracing.stamp(envelope.kafka_headers(), span)
            check_size(target, record_key, value, headers)
            params = {"topic": target, "key": record_key, "val": value, "hdrs": encode_headers(headers)}
            await session.execute(_INSERT_ONE_SQL, params)
        return envelope

    async def add_many(
        self,
        session: AsyncSession | AsyncConnection,
        messages: Sequence[Message],
        *,
        lane: Lane = "primary",
        topic: str | None = None,
        keys: Sequence[str | None] | None = None,
    ) -> list[Envelope]:
        """Insert many events with ONE statement; ``keys`` (same length) overrides the default keys.

        Raises ``MessageTooLarge`` (nothing written) when any record would exceed the size limit.
        """
        if keys is not None and len(keys) != len(messages):
            raise ValueError(f"keys has {len(keys)} entries for {len(messages)} messages")
        if not messages:
            return []
        envelopes = [self.wrap(message) for message in messages]
        topics = [resolve_topic(m, lane=lane, topic=topic) for m in messages]
        record_keys = list(keys) if keys is not None else [key_for(m) for m in messages]
        values = [e.to_json() for e in envelopes]
        with tracing.outbox_write(topics) as span:
            headers = [tracing.stamp(e.kafka_headers(), span) for e in envelopes]
            for row in zip(topics, record_keys, values, headers, strict=True):
                check_size(*row)
            params: dict[str, Any] = {
                "topics": topics,
                "keys": record_keys,
                "vals": values,
                "hdrs": [encode_headers(h) for h in headers],
            }
            await session.execute(_INSERT_SQL, params)
        return envelopes


async def outbox_stats(conn: Any) -> tuple[int, float | None]:
    """``(backlog, oldest unpublished age in seconds or None)``; parked rows are not backlog.

    ``conn`` is an asyncpg connection or a SQLAlchemy AsyncConnection / AsyncSession.
    """
    backlog, _parked, age = await outbox_counts(conn)
    return backlog, age


async def outbox_counts(conn: Any) -> tuple[int, int, float | None]:
    """``(backlog, parked rows, oldest backlog row's age in seconds or None)`` in one statement."""
    sql = (
        "SELECT count(*) FILTER (WHERE parked_at IS NULL), count(*) FILTER (WHERE parked_at IS NOT NULL), "
        "EXTRACT(EPOCH FROM now() - min(created_at) FILTER (WHERE parked_at IS NULL))::float8 "
        "FROM outbox WHERE published_at IS NULL"
    )
    if hasattr(conn, "fetchrow"):
        row = await conn.fetchrow(sql)
        backlog, parked, age = row[0], row[1], row[2]
    else:
        result = await conn.execute(sa.text(sql))
        backlog, parked, age = result.one()
    return int(backlog), int(parked), None if age is None else float(age)
