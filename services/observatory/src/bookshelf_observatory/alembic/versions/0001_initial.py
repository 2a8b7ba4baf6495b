"""The message index, dead letters and partition watermarks.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    _messages()
    _dead_letters()
    op.create_table(
        "partition_watermarks",
        sa.Column("topic", sa.Text, primary_key=True),
        sa.Column("partition", sa.Integer, primary_key=True),
        sa.Column("high_watermark", sa.BigInteger, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
    )


def _messages() -> None:
    op.create_table(
        "messages",
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
        sa.Column("occurred_at", _TS),
        sa.Column("record_ts", _TS),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("replay_count", sa.Integer, nullable=False),
        sa.Column("valid", sa.Boolean, nullable=False),
        sa.Column("indexed_at", _TS, nullable=False, server_default=sa.func.now()),
    )
    for column in ("correlation_id", "key", "message_id", "record_ts"):
        op.create_index(f"ix_messages_{column}", "messages", [column])


def _dead_letters() -> None:
    op.create_table(
        "dead_letters",
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
        sa.Column("first_failed_at", _TS),
        sa.Column("last_failed_at", _TS),
        sa.Column("replay_count", sa.Integer, nullable=False),
        sa.Column("message_id", sa.Text),
        sa.Column("message_type", sa.Text),
        sa.Column("correlation_id", sa.Text),
        sa.Column("value", sa.LargeBinary),
        sa.Column("closed_at", _TS),
        sa.Column("closed_by", sa.Text),
    )
    op.create_index("ix_dead_letters_entry_id", "dead_letters", ["entry_id"])
    op.create_index("ix_dead_letters_correlation_id", "dead_letters", ["correlation_id"])
    op.create_index(
        "ix_dead_letters_open", "dead_letters", ["dlq_topic"], postgresql_where=sa.text("closed_at IS NULL")
    )


def downgrade() -> None:
    op.drop_table("partition_watermarks")
    op.drop_table("dead_letters")
    op.drop_table("messages")
