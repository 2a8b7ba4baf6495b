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
    "Commands produced (and acknowledged by the broker) by type; re-sends after a crash count again",
    ["type"],
)
MESSAGES = Counter(
    "bookshelf_fulfillment_messages_total",
    "Messages handled by type and outcome (transition, noted, ignored, dropped)",
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
DEADLINES_EMITTED = Counter(
    "bookshelf_fulfillment_deadline_messages_emitted_total",
    "DeadlinePassed messages the timer produced to fulfillment.deadlines",
)
PENDING_DEADLINES = Gauge(
    "bookshelf_fulfillment_pending_deadlines", "Instances on this worker waiting with a deadline"
)
INVALID_RECORDS = Counter(
    "bookshelf_fulfillment_invalid_records_total",
    "Records that could not be read and were dead-lettered, by topic",
    ["topic"],
)
OFFSET_GAPS = Counter(
    "bookshelf_fulfillment_offset_gaps_total",
    "Jumps in an input partition's offsets that faust committed over (records never handled; expect 0)",
    ["topic"],
)
HANDLE_SECONDS = Histogram(
    "bookshelf_fulfillment_handle_seconds",
    "Time to handle one message: decide, send its commands, write the table",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)


def observe(decision: Decision, message_type: str) -> None:
    """Count one decision."""
    MESSAGES.labels(message_type, decision.outcome.value).inc()
    if decision.outcome in (Outcome.IGNORED, Outcome.DROPPED):
        IGNORED.labels(message_type).inc()
    if decision.outcome is not Outcome.TRANSITION or decision.to_state is None:
        return
    from_state = decision.from_state.value if decision.from_state else "NONE"
    TRANSITIONS.labels(from_state, decision.to_state.value).inc()
    if message_type == DeadlinePassed.TYPE and decision.from_state is not None:
        DEADLINES_EXPIRED.labels(decision.from_state.value).inc()


def observe_sent(command_types: list[str]) -> None:
    """Count commands the broker acknowledged."""
    for command_type in command_types:
        COMMANDS_SENT.labels(command_type).inc()
