"""Prometheus metrics of the saga worker (served at ``/metrics``)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from bookshelf_fulfillment.domain.messages import DeadlinePassed
from bookshelf_fulfillment.domain.saga import Decision, Outcome

TRANSITIONS = Counter(
    "bookshelf_fulfillment_transitions_total",
    "Saga transitions by state before and after (from_state NONE: a saga started)",
    ["from_state", "to_state"],
)
COMMANDS_SENT = Counter(
    "bookshelf_fulfillment_commands_sent_total",
    "Commands written to the outbox by type (the relay publishes them); a rolled-back step counts too",
    ["type"],
)
MESSAGES = Counter(
    "bookshelf_fulfillment_messages_total",
    "Messages handled by type and outcome (transition, compensated, noted, ignored, dropped)",
    ["type", "outcome"],
)
IGNORED = Counter(
    "bookshelf_fulfillment_ignored_messages_total",
    "Messages recorded and ignored (duplicates, late replies, after the end) or dropped (no saga)",
    ["type"],
)
DEADLINES_EXPIRED = Counter(
    "bookshelf_fulfillment_deadlines_expired_total",
    "Sagas cancelled because their deadline passed, by the state they were waiting in",
    ["state"],
)
PENDING_DEADLINES = Gauge(
    "bookshelf_fulfillment_pending_deadlines",
    "Instances waiting with a deadline (all of them: every worker's timer sees the whole table)",
)
INVALID_RECORDS = Counter(
    "bookshelf_fulfillment_invalid_records_total",
    "Records dead-lettered (unreadable, or failing every attempt), by topic",
    ["topic"],
)
OFFSET_GAPS = Counter(
    "bookshelf_fulfillment_offset_gaps_total",
    "Jumps in an input partition's offsets seen by faust (records dropped on the way; expect 0)",
    ["topic"],
)
WATCHDOG_RESEEKS = Counter(
    "bookshelf_fulfillment_watchdog_reseeks_total",
    "Input partitions sought back to their committed offset because it had stopped moving",
    ["topic"],
)
HANDLE_SECONDS = Histogram(
    "bookshelf_fulfillment_handle_seconds",
    "Time of one saga step inside its transaction: lock, decide, write instance, history and commands",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
BATCH_SECONDS = Histogram(
    "bookshelf_fulfillment_batch_seconds",
    "Time to handle one batch of events in one transaction (commit included)",
    buckets=(0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)


def observe(decision: Decision, message_type: str) -> None:
    """Count one decision and the commands it wrote."""
    MESSAGES.labels(message_type, decision.outcome.value).inc()
    for command in decision.commands:
        COMMANDS_SENT.labels(command.type).inc()
    if decision.outcome in (Outcome.IGNORED, Outcome.DROPPED):
        IGNORED.labels(message_type).inc()
    if decision.outcome is not Outcome.TRANSITION or decision.to_state is None:
        return
    from_state = decision.from_state.value if decision.from_state else "NONE"
    TRANSITIONS.labels(from_state, decision.to_state.value).inc()
    if message_type == DeadlinePassed.TYPE and decision.from_state is not None:
        DEADLINES_EXPIRED.labels(decision.from_state.value).inc()
