"""Time in a trace: each message's delay from its parent (+Δ ms), its offset from the trace's first
message, and the total from the first to the last message.

A message's moment is its record timestamp (when the producer handed it to Kafka), else the envelope's
``occurred_at``. The delay of a node is its moment minus its parent's: for a command or event caused by
a consumed message, that is the consumer's fetch wait + handling + the outbox relay's publish, i.e. one
hop. Clocks of different hosts may disagree a little, so a delay can be negative; it is shown as is.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar, cast


class Timed(Protocol):
    """A tree node with a moment and children (``TraceNode``)."""

    @property
    def moment(self) -> datetime | None: ...

    @property
    def children(self) -> Sequence[Timed]: ...  # pragma: no cover - protocol


def ms_between(start: datetime | None, end: datetime | None) -> float | None:
    """``end - start`` in milliseconds (rounded to 0.1 ms), None when either is unknown."""
    if start is None or end is None:
        return None
    return round((end - start).total_seconds() * 1000, 1)


@dataclass(frozen=True, slots=True)
class Span:
    """The first and last moments of a trace and the time between them."""

    started_at: datetime | None
    ended_at: datetime | None

    @property
    def total_ms(self) -> float | None:
        """From the first message to the last one."""
        return ms_between(self.started_at, self.ended_at)

    def offset_ms(self, moment: datetime | None) -> float | None:
        """How long after the first message ``moment`` is."""
        return ms_between(self.started_at, moment)

    def percent(self, moment: datetime | None) -> float:
        """Where ``moment`` sits on a 0-100 scale of the trace (0 when unknown or the trace has no length)."""
        offset, total = self.offset_ms(moment), self.total_ms
        if offset is None or not total:
            return 0.0
        return round(max(0.0, min(100.0, offset * 100 / total)), 2)


N = TypeVar("N", bound=Timed)


def walk(roots: Iterable[N], depth: int = 0) -> Iterator[tuple[N, N | None, int]]:
    """Every node depth-first as ``(node, parent, depth)``, in tree order."""
    for root in roots:
        yield from _walk(root, None, depth)


def _walk(node: N, parent: N | None, depth: int) -> Iterator[tuple[N, N | None, int]]:
    yield node, parent, depth
    for child in node.children:
        yield from _walk(cast(N, child), node, depth + 1)


def span_of(roots: Iterable[Timed]) -> Span:
    """The first and last known moments among every node of the forest."""
    moments = [node.moment for node, _, _ in walk(roots) if node.moment is not None]
    return Span(min(moments), max(moments)) if moments else Span(None, None)


def delay_ms(node: Timed, parent: Timed | None) -> float | None:
    """``node``'s delay from its parent (None for a root, or when a moment is unknown)."""
    return ms_between(parent.moment, node.moment) if parent is not None else None
