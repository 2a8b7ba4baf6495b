"""Causation trees: every message of a correlation id, each under the message that caused it.

A node is one message (one ``message_id``). Its first record is where it lives (topic, partition,
offset); later records with the same ``message_id`` are its copies: a ``replay`` (it carries
``dlq.replay_count``: an operator sent a dead letter back) or a ``duplicate`` (a re-publish, e.g. the
relay crashed between publish and mark; idempotent consumers skip it through their inbox).

Outcome of a node, from what the topics show (docs/observatory.md):

- ``dead_lettered``: a consumer group sent one of its records to the DLQ and the entry is still open;
- ``handled``: a message it caused was seen (its effect is on the wire);
- ``replayed``: it was dead-lettered, the entry was replayed, and no effect was seen yet;
- ``purged``: it was dead-lettered and the entry was closed without a replay;
- ``delivered``: no dead letter and no effect seen: read by consumers that react without messages
  (read models, terminal events), ignored by tolerant readers, or not consumed yet.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bookshelf_contracts.topics import DLQ_SUFFIX

from bookshelf_observatory.domain.records import DeadLetterMeta, IndexedMessage
from bookshelf_observatory.domain.timeline import Span, delay_ms, span_of, walk

_EPOCH = datetime.min.replace(tzinfo=UTC)


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


def _order(message: IndexedMessage) -> tuple[datetime, str, int, int]:
    return (
        message.timestamp or message.occurred_at or _EPOCH,
        message.topic,
        message.partition,
        message.offset,
    )


@dataclass
class TraceNode:
    """One message of the tree, its records, dead letters and children."""

    message: IndexedMessage
    copies: list[IndexedMessage] = field(default_factory=list)
    dead_letters: list[DeadLetterMeta] = field(default_factory=list)
    children: list[TraceNode] = field(default_factory=list)

    @property
    def message_id(self) -> str:
        """The message id (a record without one is named by its coordinates)."""
        m = self.message
        return m.message_id or f"{m.topic}:{m.partition}:{m.offset}"

    @property
    def outcome(self) -> str:
        """``dead_lettered``, ``handled``, ``replayed``, ``purged`` or ``delivered`` (module doc)."""
        if any(d.closed_at is None for d in self.dead_letters):
            return "dead_lettered"
        if self.children:
            return "handled"
        if self.dead_letters:
            return "replayed" if any(c.replay_count for c in self.copies) else "purged"
        return "delivered"

    @property
    def moment(self) -> datetime | None:
        """When it was written: the record timestamp, else the envelope's ``occurred_at``."""
        return self.message.timestamp or self.message.occurred_at

    def size(self) -> int:
        """How many nodes this subtree holds."""
        return 1 + sum(child.size() for child in self.children)

    def types(self) -> set[str]:
        """Every message type of this subtree."""
        found = {self.message.type or "?"}
        for child in self.children:
            found |= child.types()
        return found

    def to_dict(self, parent: TraceNode | None = None, span: Span | None = None) -> dict[str, Any]:
        """The JSON form of the subtree (API and ``bookshelf trace --json``); ``delay_ms`` is the time
        since ``parent``'s record, ``offset_ms`` since the first message of ``span`` (the trace)."""
        m = self.message
        span = span or span_of([self])
        return {
            "message_id": self.message_id,
            "type": m.type,
            "producer": m.producer,
            "topic": m.topic,
            "partition": m.partition,
            "offset": m.offset,
            "key": m.key,
            "correlation_id": m.correlation_id,
            "causation_id": m.causation_id,
            "occurred_at": _iso(m.occurred_at),
            "timestamp": _iso(m.timestamp),
            "trace_id": m.trace_id,
            "delay_ms": delay_ms(self, parent),
            "offset_ms": span.offset_ms(self.moment),
            "outcome": self.outcome,
            "copies": [_copy_dict(c) for c in self.copies],
            "dead_letters": [_dead_letter_dict(d) for d in self.dead_letters],
            "children": [child.to_dict(self, span) for child in self.children],
        }


def _copy_dict(copy: IndexedMessage) -> dict[str, Any]:
    return {
        "topic": copy.topic,
        "partition": copy.partition,
        "offset": copy.offset,
        "timestamp": _iso(copy.timestamp),
        "outcome": "replay" if copy.replay_count else "duplicate",
        "replay_count": copy.replay_count,
    }


def _dead_letter_dict(letter: DeadLetterMeta) -> dict[str, Any]:
    return {
        "entry_id": letter.entry_id,
        "dlq_topic": letter.dlq_topic,
        "consumer_group": letter.consumer_group,
        "error_type": letter.error_type,
        "error_message": letter.error_message,
        "original_offset": letter.original_offset,
        "last_failed_at": _iso(letter.last_failed_at),
        "open": letter.closed_at is None,
    }


@dataclass
class Trace:
    """The forest of one or more correlation ids (an order can span several requests)."""

    query: str
    correlation_ids: list[str]
    roots: list[TraceNode]

    @property
    def count(self) -> int:
        """Messages in the trace."""
        return sum(root.size() for root in self.roots)

    def types(self) -> set[str]:
        """Every message type in the trace."""
        return set().union(*(root.types() for root in self.roots)) if self.roots else set()

    @property
    def span(self) -> Span:
        """The first and last message's moments."""
        return span_of(self.roots)

    def trace_ids(self) -> list[str]:
        """The distinct W3C trace ids of the messages, in tree order (one per request when traced)."""
        found = (node.message.trace_id for node, _, _ in walk(self.roots))
        return list(dict.fromkeys(t for t in found if t))

    def timeline(self) -> list[dict[str, Any]]:
        """One row per message in tree order: depth, delay from its parent, offset from the first message,
        and where it sits on the trace's time scale (``at_percent``)."""
        span = self.span
        return [
            {
                "message_id": node.message_id,
                "type": node.message.type,
                "producer": node.message.producer,
                "topic": node.message.topic,
                "depth": depth,
                "delay_ms": delay_ms(node, parent),
                "offset_ms": span.offset_ms(node.moment),
                "at_percent": span.percent(node.moment),
                "outcome": node.outcome,
            }
            for node, parent, depth in walk(self.roots)
        ]

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``GET /api/trace/{id}`` and ``bookshelf trace --json``."""
        span = self.span
        return {
            "query": self.query,
            "correlation_ids": self.correlation_ids,
            "count": self.count,
            "trace_ids": self.trace_ids(),
            "started_at": _iso(span.started_at),
            "ended_at": _iso(span.ended_at),
            "total_ms": span.total_ms,
            "roots": [root.to_dict(None, span) for root in self.roots],
            "timeline": self.timeline(),
        }


def _nodes(messages: Iterable[IndexedMessage]) -> dict[str, TraceNode]:
    nodes: dict[str, TraceNode] = {}
    for message in sorted((m for m in messages if not m.topic.endswith(DLQ_SUFFIX)), key=_order):
        node_id = message.message_id or f"{message.topic}:{message.partition}:{message.offset}"
        if node_id in nodes:
            nodes[node_id].copies.append(message)
        else:
            nodes[node_id] = TraceNode(message)
    return nodes


def _attach_dead_letters(nodes: dict[str, TraceNode], dead_letters: Iterable[DeadLetterMeta]) -> None:
    by_record: dict[tuple[str, int, int], TraceNode] = {}
    for node in nodes.values():
        for record in (node.message, *node.copies):
            by_record[(record.topic, record.partition, record.offset)] = node
    for letter in dead_letters:
        target = by_record.get((letter.original_topic, letter.original_partition, letter.original_offset))
        if target is not None:
            target.dead_letters.append(letter)


def build_trace(
    query: str,
    correlation_ids: list[str],
    messages: Iterable[IndexedMessage],
    dead_letters: Iterable[DeadLetterMeta] = (),
) -> Trace:
    """The causation forest of ``messages``: roots are messages whose cause is not among them."""
    nodes = _nodes(messages)
    _attach_dead_letters(nodes, dead_letters)
    roots: list[TraceNode] = []
    parents: dict[int, TraceNode] = {}
    for node_id, node in nodes.items():
        cause = node.message.causation_id
        parent = nodes.get(cause) if cause and cause != node_id else None
        if parent is None:
            roots.append(node)
        else:
            parent.children.append(node)
            parents[id(node)] = parent
    _break_cycles(nodes, roots, parents)
    return Trace(query, correlation_ids, roots)


def _break_cycles(nodes: dict[str, TraceNode], roots: list[TraceNode], parents: dict[int, TraceNode]) -> None:
    """A causation cycle (never produced by Bookshelf, but the wire is not ours) must not hide messages."""
    while True:
        reachable = _reachable(roots)
        stranded = next((n for n in nodes.values() if id(n) not in reachable), None)
        if stranded is None:
            return
        parents[id(stranded)].children.remove(stranded)
        roots.append(stranded)


def _reachable(roots: list[TraceNode]) -> set[int]:
    seen: set[int] = set()
    stack = list(roots)
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.extend(node.children)
    return seen
