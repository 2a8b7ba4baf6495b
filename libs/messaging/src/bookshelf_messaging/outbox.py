"""The transactional outbox: event rows written in the caller's transaction, published by the relay.

``Outbox.add`` wraps a message in its envelope (producer = the service, correlation and causation ids
from ``bookshelf_messaging.context``) and inserts one row into ``outbox`` through the caller's
session, so the event exists exactly when the business change commits. ``add_many`` inserts any
number of rows with one statement (bulk imports of 50,000 books go through it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import orjson
import sqlalchemy as sa
from bookshelf_contracts import Envelope, Message, bulk, key_for, topic_for
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlmodel import Field, SQLModel

from bookshelf_messaging import context

OUTBOX_TABLE = "outbox"
Lane = Literal["primary", "bulk"]


class OutboxRecord(SQLModel, table=True):
    """One event waiting to be (or already) published: topic, key, envelope JSON and headers."""

    __tablename__ = OUTBOX_TABLE
    # The relay reads unpublished rows in id order; the partial index stays as small as the backlog.
    __table_args__ = (
        sa.Index("ix_outbox_unpublished", "id", postgresql_where=sa.text("published_at IS NULL")),
    )

    id: int | None = Field(
        default=None, sa_column=sa.Column(sa.BigInteger, primary_key=True, autoincrement=True)
    )
    topic: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    key: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    value: bytes = Field(sa_column=sa.Column(sa.LargeBinary, nullable=False))
    headers: list[list[str]] = Field(default_factory=list, sa_column=sa.Column(JSONB, nullable=False))
    created_at: datetime | None = Field(
        default=None,
        sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    published_at: datetime | None = Field(
        default=None, sa_column=sa.Column(sa.DateTime(timezone=True), nullable=True)
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
        """Insert one event; key defaults to the topic's key field, topic to the message type's topic."""
        envelope = self.wrap(message, message_id=message_id)
        params = {
            "topic": resolve_topic(message, lane=lane, topic=topic),
            "key": key if key is not None else key_for(message),
            "val": envelope.to_json(),
            "hdrs": encode_headers(envelope.kafka_headers()),
        }
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
        """Insert many events with ONE statement; ``keys`` (same length) overrides the default keys."""
        if keys is not None and len(keys) != len(messages):
            raise ValueError(f"keys has {len(keys)} entries for {len(messages)} messages")
        if not messages:
            return []
        envelopes = [self.wrap(message) for message in messages]
        params: dict[str, Any] = {
            "topics": [resolve_topic(m, lane=lane, topic=topic) for m in messages],
            "keys": list(keys) if keys is not None else [key_for(m) for m in messages],
            "vals": [e.to_json() for e in envelopes],
            "hdrs": [encode_headers(e.kafka_headers()) for e in envelopes],
        }
        await session.execute(_INSERT_SQL, params)
        return envelopes


async def outbox_stats(conn: Any) -> tuple[int, float | None]:
    """``(backlog, oldest unpublished age in seconds or None)``.

    ``conn`` is an asyncpg connection or a SQLAlchemy AsyncConnection / AsyncSession.
    """
    sql = (
        "SELECT count(*), EXTRACT(EPOCH FROM now() - min(created_at))::float8 "
        "FROM outbox WHERE published_at IS NULL"
    )
    if hasattr(conn, "fetchrow"):
        row = await conn.fetchrow(sql)
        backlog, age = row[0], row[1]
    else:
        result = await conn.execute(sa.text(sql))
        backlog, age = result.one()
    return int(backlog), None if age is None else float(age)
