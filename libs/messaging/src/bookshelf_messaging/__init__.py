"""Messaging plumbing every Bookshelf service shares: outbox + relay, consumer runner, DLQ, lanes.

Knows the envelope (``bookshelf_contracts``), never a business event. See docs/internals.md.
"""

from bookshelf_messaging import context
from bookshelf_messaging.admin import create_topic, ensure_topics, ensure_topics_sync, topic_plan
from bookshelf_messaging.consumer import Consumer, ConsumerRunner, runners
from bookshelf_messaging.db import create_engine, create_session_factory, to_asyncpg_dsn, to_sqlalchemy_url
from bookshelf_messaging.dlq import DeadLetter, build_dead_letter, dlq_topic_for, entry_id
from bookshelf_messaging.dlq_store import (
    DeadLetterNotFound,
    DeadLetterStore,
    NotReplayable,
    ReplayLimitExceeded,
)
from bookshelf_messaging.errors import (
    ErrorKind,
    InfrastructureError,
    MessageTooLarge,
    PermanentError,
    classify_error,
    is_infrastructure_error,
)
from bookshelf_messaging.handlers import BatchHandler, Handler
from bookshelf_messaging.inbox import inbox_table
from bookshelf_messaging.lanes import lane_of, primary_has_work
from bookshelf_messaging.outbox import Outbox, outbox_stats, outbox_table
from bookshelf_messaging.policy import MAX_RETRIES, REPLAY_LIMIT, Backoff, RetryPolicy
from bookshelf_messaging.relay import OutboxRelay
from bookshelf_messaging.schema import create_messaging_schema, drop_messaging_schema, install, uninstall
from bookshelf_messaging.settings import KafkaSettings

__all__ = [
    "MAX_RETRIES",
    "REPLAY_LIMIT",
    "Backoff",
    "BatchHandler",
    "Consumer",
    "ConsumerRunner",
    "DeadLetter",
    "DeadLetterNotFound",
    "DeadLetterStore",
    "ErrorKind",
    "Handler",
    "InfrastructureError",
    "KafkaSettings",
    "MessageTooLarge",
    "NotReplayable",
    "Outbox",
    "OutboxRelay",
    "PermanentError",
    "ReplayLimitExceeded",
    "RetryPolicy",
    "build_dead_letter",
    "classify_error",
    "context",
    "create_engine",
    "create_messaging_schema",
    "create_session_factory",
    "create_topic",
    "dlq_topic_for",
    "drop_messaging_schema",
    "ensure_topics",
    "ensure_topics_sync",
    "entry_id",
    "inbox_table",
    "install",
    "is_infrastructure_error",
    "lane_of",
    "outbox_stats",
    "outbox_table",
    "primary_has_work",
    "runners",
    "to_asyncpg_dsn",
    "to_sqlalchemy_url",
    "topic_plan",
    "uninstall",
]
