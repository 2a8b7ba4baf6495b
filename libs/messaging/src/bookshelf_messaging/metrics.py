"""Every Prometheus metric of the messaging plumbing, in one place (default registry).

Label cardinality stays bounded: service, consumer group, topic, partition, lane, outcome.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

_BATCH_BUCKETS = (1, 5, 10, 50, 100, 250, 500, 1000, 2500, 5000)
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

# --- outbox relay ---------------------------------------------------------------------------------
OUTBOX_PUBLISHED = Counter(
    "bookshelf_outbox_published_total",
    "Outbox rows acknowledged by the broker and marked published",
    ["service"],
)
OUTBOX_PUBLISH_FAILED = Counter(
    "bookshelf_outbox_publish_failed_total", "Outbox rows whose delivery failed (retried later)", ["service"]
)
OUTBOX_BATCH_SIZE = Histogram(
    "bookshelf_outbox_batch_size", "Rows per relay batch", ["service"], buckets=_BATCH_BUCKETS
)
OUTBOX_PUBLISH_LATENCY = Histogram(
    "bookshelf_outbox_publish_latency_seconds",
    "Age of the oldest row of each batch when the broker acknowledged the whole batch",
    ["service"],
    buckets=_LATENCY_BUCKETS,
)
OUTBOX_BACKLOG = Gauge(
    "bookshelf_outbox_backlog",
    "Outbox rows waiting to be published, parked rows not counted (sampled by the relay)",
    ["service"],
)
OUTBOX_PARKED = Gauge(
    "bookshelf_outbox_parked_rows",
    "Outbox rows the broker refused for good, set aside until an operator retries or drops them",
    ["service"],
)
OUTBOX_PARKED_TOTAL = Counter(
    "bookshelf_outbox_parked_total", "Outbox rows the relay parked (refused by the broker)", ["service"]
)
OUTBOX_OLDEST_AGE = Gauge(
    "bookshelf_outbox_oldest_unpublished_age_seconds", "Age of the oldest unpublished outbox row", ["service"]
)
OUTBOX_RELAY_ACTIVE = Gauge(
    "bookshelf_outbox_relay_active", "1 while this process holds the relay lock of its service", ["service"]
)
OUTBOX_DELETED = Counter(
    "bookshelf_outbox_deleted_total", "Published outbox rows deleted after the retention period", ["service"]
)

# --- consumer runner ------------------------------------------------------------------------------
CONSUMED = Counter(
    "bookshelf_consumer_messages_total",
    "Records consumed, by outcome: handled, duplicate, ignored, dead_lettered",
    ["group", "topic", "outcome"],
)
HANDLER_LATENCY = Histogram(
    "bookshelf_consumer_handler_seconds",
    "Time in the handler per message (batch transactions: batch time / batch size)",
    ["group", "topic"],
    buckets=_LATENCY_BUCKETS,
)
HANDLER_FAILURES = Counter(
    "bookshelf_consumer_handler_failures_total",
    "Handler attempts that raised",
    ["group", "topic", "error_type"],
)
TRANSIENT_CONFLICTS = Counter(
    "bookshelf_consumer_transient_conflicts_total",
    "Handler attempts that met a transient conflict (deadlock, serialization, lock timeout, read-only "
    "failover), retried outside the dead-letter budget",
    ["group", "topic", "sqlstate"],
)
INFRASTRUCTURE_ERRORS = Counter(
    "bookshelf_consumer_infrastructure_errors_total",
    "Partition batches that failed on the database or broker (rewound and retried after a wait)",
    ["group", "topic", "error_type"],
)
INFRASTRUCTURE_STALLED = Gauge(
    "bookshelf_consumer_infrastructure_stalled",
    "1 while a partition waits for its database or broker to come back (alert when it stays 1)",
    ["group", "topic", "partition"],
)
CONSUMER_LAG = Gauge(
    "bookshelf_consumer_lag",
    "Records behind the fetch high watermark, per partition and lane",
    ["group", "topic", "partition", "lane"],
)
LANE_PAUSED = Gauge(
    "bookshelf_consumer_bulk_lane_paused", "1 while the bulk lane waits for the primary lane", ["group"]
)
DEAD_LETTERED = Counter(
    "bookshelf_dlq_written_total", "Records written to a dead-letter topic", ["group", "topic", "error_type"]
)
STALE_FETCHES_REFUSED = Counter(
    "bookshelf_consumer_stale_fetches_refused_total",
    "Fetched batches refused because their partition was rewound behind them meanwhile (fetched again)",
    ["group", "topic"],
)
