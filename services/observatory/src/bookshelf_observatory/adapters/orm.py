"""The index tables (SQLAlchemy Core). The observatory publishes nothing: no outbox, no inbox."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# One row per record of every topic, keyed by its coordinates: indexing is an idempotent upsert.
messages = sa.Table(
    "messages",
    metadata,
    sa.Column("topic", sa.Text, primary_key=True),
    sa.Column("partition", sa.Integer, primary_key=True),
    sa.Column("offset", sa.BigInteger, primary_key=True),
    sa.Column("key", sa.Text),
    sa.Column("message_id", sa.Text),
    sa.Column("type", sa.Text),
    sa.Column("version", sa.Integer),
    sa.Column("correlation_id", sa.Text),
    sa.Column("causation_id", sa.Text),
    sa.Column("producer", sa.Text),
    sa.Column("occurred_at", sa.DateTime(timezone=True)),
    sa.Column("record_ts", sa.DateTime(timezone=True)),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("replay_count", sa.Integer, nullable=False),
    sa.Column("valid", sa.Boolean, nullable=False),
    sa.Column("indexed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("trace_id", sa.Text),  # W3C trace id of the traceparent header (0002)
    sa.Index("ix_messages_correlation_id", "correlation_id"),
    sa.Index("ix_messages_key", "key"),
    sa.Index("ix_messages_message_id", "message_id"),
    sa.Index("ix_messages_record_ts", "record_ts"),
)

# Every record of a .dlq topic with its parsed dlq.* headers; a tombstone sets closed_at.
dead_letters = sa.Table(
    "dead_letters",
    metadata,
    sa.Column("dlq_topic", sa.Text, primary_key=True),
    sa.Column("dlq_partition", sa.Integer, primary_key=True),
    sa.Column("dlq_offset", sa.BigInteger, primary_key=True),
    sa.Column("entry_id", sa.Text, nullable=False),
    sa.Column("original_topic", sa.Text, nullable=False),
    sa.Column("original_partition", sa.Integer, nullable=False),
    sa.Column("original_offset", sa.BigInteger, nullable=False),
    sa.Column("consumer_group", sa.Text, nullable=False),
    sa.Column("error_type", sa.Text, nullable=False),
    sa.Column("error_message", sa.Text, nullable=False),
    sa.Column("stacktrace", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("first_failed_at", sa.DateTime(timezone=True)),
    sa.Column("last_failed_at", sa.DateTime(timezone=True)),
    sa.Column("replay_count", sa.Integer, nullable=False),
    sa.Column("message_id", sa.Text),
    sa.Column("message_type", sa.Text),
    sa.Column("correlation_id", sa.Text),
    sa.Column("value", sa.LargeBinary),
    sa.Column("closed_at", sa.DateTime(timezone=True)),
    sa.Column("closed_by", sa.Text),
    sa.Index("ix_dead_letters_entry_id", "entry_id"),
    sa.Index("ix_dead_letters_correlation_id", "correlation_id"),
    sa.Index("ix_dead_letters_open", "dlq_topic", postgresql_where=sa.text("closed_at IS NULL")),
)

# The fetch high watermark of each partition the indexer reads (lag = watermark - committed offset).
watermarks = sa.Table(
    "partition_watermarks",
    metadata,
    sa.Column("topic", sa.Text, primary_key=True),
    sa.Column("partition", sa.Integer, primary_key=True),
    sa.Column("high_watermark", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# Lag of each consumer group, sampled every few seconds (at = the sample's slot, so several observatories
# write each slot once) and kept about 15 minutes: the dashboard's lag chart (0003).
lag_samples = sa.Table(
    "lag_samples",
    metadata,
    sa.Column("at", sa.DateTime(timezone=True), primary_key=True),
    sa.Column("group_id", sa.Text, primary_key=True),
    sa.Column("records", sa.BigInteger, nullable=False),
    sa.Column("seconds", sa.Float, nullable=True),
)
