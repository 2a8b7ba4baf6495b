"""The JSON answers of ``/api/*`` as pydantic models, so the OpenAPI document types every field.

The use cases build plain dicts; these models validate and document them on the way out. They allow
extra keys (a newer field reaches clients before its model is updated) but name every field sent today.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ApiModel(BaseModel):
    """Base of the answers."""

    model_config = ConfigDict(extra="allow")


class ServiceHealth(ApiModel):
    """A watched service's ``/readyz``."""

    service: str
    url: str
    status: Literal["ready", "not_ready", "down"]
    detail: str


class TopicThroughput(ApiModel):
    """Records of one topic: last minute, per minute over five minutes, total from the watermarks."""

    topic: str
    per_minute: int
    per_minute_5m: float
    total: int
    last_at: datetime | None
    active: bool


class LagRow(ApiModel):
    """Lag of one consumer group on one topic."""

    group: str
    topic: str
    lane: Literal["primary", "bulk", "dlq"]
    partitions: int
    records: int = Field(description="fetch high watermark - committed offset, summed over partitions")
    seconds: float | None = Field(description="age of the oldest record not consumed; None when unknown")


class LagReport(ApiModel):
    """Lag rows, or why they are missing (the broker is away)."""

    groups: list[LagRow]
    error: str


class OutboxBacklog(ApiModel):
    """A service's unpublished outbox rows."""

    service: str
    backlog: int | None
    oldest_age_s: float | None
    source: Literal["database", "metrics", "error"]
    error: str


class DlqDepth(ApiModel):
    """Open dead letters of one ``.dlq`` topic."""

    dlq_topic: str
    open: int


class DeadLetterSummary(ApiModel):
    """One dead letter in a list."""

    entry_id: str
    dlq_topic: str
    original_topic: str
    original_partition: int
    original_offset: int
    consumer_group: str
    error_type: str
    error_message: str
    attempts: int
    replay_count: int
    first_failed_at: str | None
    last_failed_at: str | None
    message_id: str | None
    message_type: str | None
    correlation_id: str | None
    open: bool
    closed_at: str | None


class Payload(ApiModel):
    """A record value for humans."""

    encoding: Literal["json", "text", "base64", "none"]
    text: str


class DeadLetterDetail(DeadLetterSummary):
    """One dead letter with its stack trace and payload."""

    stacktrace: str
    payload: Payload


class DeadLetterAction(DeadLetterDetail):
    """The entry after a replay or purge."""

    action: Literal["replayed", "purged"]


class TopicPurge(ApiModel):
    """How many open entries of a DLQ were closed."""

    topic: str
    closed: int


class Overview(ApiModel):
    """Everything the overview page shows."""

    generated_at: datetime
    services: list[ServiceHealth]
    throughput: list[TopicThroughput]
    lag: LagReport
    outbox: list[OutboxBacklog]
    dlq_depth: list[DlqDepth]
    recent_failures: list[DeadLetterSummary]


class Copy(ApiModel):
    """A later record of the same message."""

    topic: str
    partition: int
    offset: int
    timestamp: str | None
    outcome: Literal["replay", "duplicate"]
    replay_count: int


class NodeDeadLetter(ApiModel):
    """A dead letter of one of a node's records."""

    entry_id: str
    dlq_topic: str
    consumer_group: str
    error_type: str
    error_message: str
    original_offset: int
    last_failed_at: str | None
    open: bool


Outcome = Literal["dead_lettered", "handled", "replayed", "purged", "delivered"]


class TraceNode(ApiModel):
    """One message of the causation tree, with the messages it caused."""

    message_id: str
    type: str | None
    producer: str | None
    topic: str
    partition: int
    offset: int
    key: str | None
    correlation_id: str | None
    causation_id: str | None
    occurred_at: str | None
    timestamp: str | None
    trace_id: str | None = Field(description="W3C trace id of the record's traceparent header")
    delay_ms: float | None = Field(description="time since the record that caused it (None for a root)")
    offset_ms: float | None = Field(description="time since the first message of the trace")
    outcome: Outcome
    copies: list[Copy]
    dead_letters: list[NodeDeadLetter]
    children: list[TraceNode]


class TimelineRow(ApiModel):
    """One message on the trace's timeline, in tree order."""

    message_id: str
    type: str | None
    producer: str | None
    topic: str
    depth: int
    delay_ms: float | None
    offset_ms: float | None
    at_percent: float = Field(description="position on the trace's time scale, 0-100")
    outcome: Outcome


class TraceDocument(ApiModel):
    """The causation forest of a correlation id or an order id, with its times."""

    query: str
    correlation_ids: list[str]
    count: int
    trace_ids: list[str] = Field(description="distinct W3C trace ids of the messages")
    started_at: str | None
    ended_at: str | None
    total_ms: float | None = Field(description="from the first to the last message")
    roots: list[TraceNode]
    timeline: list[TimelineRow]


class SagaInstance(ApiModel):
    """A saga instance as the fulfillment worker lists it (its other fields pass through)."""

    order_id: str
    state: str
    deadline: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


class StuckSaga(SagaInstance):
    """An instance past its deadline."""

    overdue_s: float


class OldestSaga(ApiModel):
    """The instance created first in a state."""

    order_id: str
    created_at: str | None
    updated_at: str | None
    age_s: float | None


class SagaState(ApiModel):
    """Instances in one state, and the oldest of them."""

    state: str
    count: int
    oldest: OldestSaga | None


class Sagas(ApiModel):
    """Saga instances by state, the stuck ones, and the newest."""

    available: bool
    url: str
    error: str
    total: int
    by_state: list[SagaState]
    stuck: list[StuckSaga]
    instances: list[SagaInstance]


class Series(ApiModel):
    """One line of a chart: a value per slot (None: no sample)."""

    name: str
    values: list[float | None]
    total: int


class Chart(ApiModel):
    """Aligned columns: ``x`` slot starts (epoch seconds), one ``values`` per series."""

    unit: str
    x: list[int]
    series: list[Series]


class Charts(ApiModel):
    """Throughput per topic and lag per group over the window."""

    window_s: int
    step_s: int
    generated_at: datetime
    throughput: Chart
    lag: Chart
