"""The causation tree and the outcome of each message."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bookshelf_observatory.domain.records import DeadLetterMeta, IndexedMessage
from bookshelf_observatory.domain.trace import build_trace

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def msg(
    mid: str, cause: str | None, offset: int, topic: str = "t", type_: str | None = None
) -> IndexedMessage:
    return IndexedMessage(
        topic=topic,
        partition=0,
        offset=offset,
        key="order-1",
        message_id=mid,
        type=type_ or mid.upper(),
        version=1,
        correlation_id="c",
        causation_id=cause,
        producer="p",
        occurred_at=T0 + timedelta(seconds=offset),
        timestamp=T0 + timedelta(seconds=offset),
        size=10,
        replay_count=0,
        valid=True,
    )


def letter(target: IndexedMessage, closed: bool = False) -> DeadLetterMeta:
    return DeadLetterMeta(
        dlq_topic=f"{target.topic}.dlq",
        dlq_partition=0,
        dlq_offset=1,
        entry_id=f"e-{target.offset}",
        original_topic=target.topic,
        original_partition=target.partition,
        original_offset=target.offset,
        consumer_group="g",
        error_type="ValueError",
        error_message="boom",
        stacktrace="",
        attempts=4,
        first_failed_at=T0,
        last_failed_at=T0,
        replay_count=0,
        message_id=target.message_id,
        message_type=target.type,
        correlation_id="c",
        value=b"{}",
        closed_at=T0 if closed else None,
    )


def test_children_hang_under_their_cause_in_time_order() -> None:
    a, b, c, d = msg("a", None, 0), msg("b", "a", 1), msg("c", "b", 3), msg("d", "b", 2)
    trace = build_trace("c", ["c"], [c, a, d, b])
    assert trace.count == 4
    (root,) = trace.roots
    assert root.message_id == "a"
    assert [n.message_id for n in root.children[0].children] == ["d", "c"]
    assert (root.outcome, root.children[0].children[0].outcome) == ("handled", "delivered")
    assert trace.types() == {"A", "B", "C", "D"}


def test_a_message_whose_cause_is_unknown_is_a_root() -> None:
    trace = build_trace("c", ["c"], [msg("a", None, 0), msg("x", "not-indexed", 1)])
    assert [r.message_id for r in trace.roots] == ["a", "x"]


def test_copies_are_duplicates_or_replays() -> None:
    a = msg("a", None, 0)
    dup = replace(a, offset=5)
    replayed = replace(a, offset=9, replay_count=1)
    (root,) = build_trace("c", ["c"], [a, dup, replayed]).roots
    assert [c["outcome"] for c in root.to_dict()["copies"]] == ["duplicate", "replay"]


def test_outcomes_of_dead_letters() -> None:
    a, b = msg("a", None, 0), msg("b", "a", 1)
    (root,) = build_trace("c", ["c"], [a, b], [letter(b)]).roots
    assert root.children[0].outcome == "dead_lettered"
    (root,) = build_trace("c", ["c"], [a, b], [letter(b, closed=True)]).roots
    assert root.children[0].outcome == "purged"
    (root,) = build_trace(
        "c", ["c"], [a, b, replace(b, offset=7, replay_count=1)], [letter(b, closed=True)]
    ).roots
    assert root.children[0].outcome == "replayed"
    # An open dead letter of one group wins over an effect seen from another group.
    (root,) = build_trace("c", ["c"], [a, b], [letter(a)]).roots
    assert root.outcome == "dead_lettered"


def test_dlq_records_are_not_nodes_and_a_cycle_hides_nothing() -> None:
    a, b = msg("a", "b", 0), msg("b", "a", 1)
    dlq_copy = replace(a, topic="t.dlq", offset=3)
    trace = build_trace("c", ["c"], [a, b, dlq_copy])
    assert trace.count == 2
    assert trace.to_dict()["count"] == 2


def test_json_form_names_every_field() -> None:
    (root,) = build_trace("q", ["c"], [msg("a", None, 0)]).roots
    node = root.to_dict()
    assert set(node) >= {
        "message_id",
        "type",
        "producer",
        "topic",
        "partition",
        "offset",
        "outcome",
        "children",
    }
    assert node["occurred_at"] == "2025-01-01T00:00:00Z"
