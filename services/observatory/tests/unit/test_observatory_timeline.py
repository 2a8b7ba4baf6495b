"""Hop durations in a trace: +Δ ms from the parent, offset from the first message, the total, the
timeline rows, and the W3C trace ids of the records."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from bookshelf_observatory.domain.records import IndexedMessage, message_of, trace_id_of
from bookshelf_observatory.domain.trace import build_trace

T0 = datetime(2025, 1, 1, tzinfo=UTC)
TRACE_A = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACE_B = "0af7651916cd43dd8448eb211c80319c"


def msg(mid: str, cause: str | None, after_ms: float | None, offset: int = 0) -> IndexedMessage:
    moment = T0 + timedelta(milliseconds=after_ms) if after_ms is not None else None
    return IndexedMessage(
        topic="t",
        partition=0,
        offset=offset,
        key="order-1",
        message_id=mid,
        type=mid.upper(),
        version=1,
        correlation_id="c",
        causation_id=cause,
        producer="p",
        occurred_at=moment,
        timestamp=moment,
        size=10,
        replay_count=0,
        valid=True,
    )


def saga() -> list[IndexedMessage]:
    # placed -> reserve (+12.5 ms) -> reserved (+30 ms) -> {confirm (+4 ms), ship (+6 ms) -> shipped (+50 ms)}
    return [
        msg("placed", None, 0, 0),
        msg("reserve", "placed", 12.5, 1),
        msg("reserved", "reserve", 42.5, 2),
        msg("confirm", "reserved", 46.5, 3),
        msg("ship", "reserved", 48.5, 4),
        msg("shipped", "ship", 98.5, 5),
    ]


def nodes_by_id(document: dict) -> dict[str, dict]:  # type: ignore[type-arg]
    found: dict[str, dict] = {}  # type: ignore[type-arg]
    stack = list(document["roots"])
    while stack:
        node = stack.pop()
        found[node["message_id"]] = node
        stack.extend(node["children"])
    return found


def test_each_node_carries_its_delay_from_its_parent_and_its_offset_from_the_first() -> None:
    document = build_trace("c", ["c"], saga()).to_dict()
    nodes = nodes_by_id(document)
    assert nodes["placed"]["delay_ms"] is None  # a root has no parent
    assert nodes["reserve"]["delay_ms"] == 12.5
    assert nodes["reserved"]["delay_ms"] == 30.0
    assert nodes["confirm"]["delay_ms"] == 4.0
    assert nodes["ship"]["delay_ms"] == 6.0
    assert nodes["shipped"]["delay_ms"] == 50.0
    assert nodes["shipped"]["offset_ms"] == 98.5
    assert nodes["placed"]["offset_ms"] == 0.0


def test_the_total_runs_from_the_first_to_the_last_message() -> None:
    document = build_trace("c", ["c"], saga()).to_dict()
    assert document["total_ms"] == 98.5
    assert document["started_at"] == "2025-01-01T00:00:00Z"
    assert document["ended_at"] == "2025-01-01T00:00:00.098500Z"


def test_the_timeline_lists_every_message_in_tree_order_with_depth_and_position() -> None:
    timeline = build_trace("c", ["c"], saga()).to_dict()["timeline"]
    assert [(r["type"], r["depth"]) for r in timeline] == [
        ("PLACED", 0),
        ("RESERVE", 1),
        ("RESERVED", 2),
        ("CONFIRM", 3),
        ("SHIP", 3),
        ("SHIPPED", 4),
    ]
    assert [r["at_percent"] for r in timeline] == [0.0, 12.69, 43.15, 47.21, 49.24, 100.0]
    assert timeline[-1]["delay_ms"] == 50.0


def test_the_record_timestamp_wins_over_occurred_at_and_unknown_times_stay_unknown() -> None:
    root = msg("placed", None, 0)
    late_record = replace(msg("reserve", "placed", 5, 1), timestamp=T0 + timedelta(milliseconds=80))
    no_time = msg("lost", "placed", None, 2)
    document = build_trace("c", ["c"], [root, late_record, no_time]).to_dict()
    nodes = nodes_by_id(document)
    assert nodes["reserve"]["delay_ms"] == 80.0
    assert nodes["lost"]["delay_ms"] is None
    assert nodes["lost"]["offset_ms"] is None
    assert document["total_ms"] == 80.0
    rows = {r["type"]: r for r in document["timeline"]}
    assert (rows["LOST"]["at_percent"], rows["RESERVE"]["at_percent"]) == (0.0, 100.0)


def test_a_trace_of_one_message_has_a_zero_total() -> None:
    document = build_trace("c", ["c"], [msg("placed", None, 0)]).to_dict()
    assert document["total_ms"] == 0.0
    assert document["timeline"][0]["at_percent"] == 0.0


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (f"00-{TRACE_A}-00f067aa0ba902b7-01", TRACE_A),
        (f"00-{TRACE_A.upper()}-00f067aa0ba902b7-00", TRACE_A),
        ("00-" + "0" * 32 + "-00f067aa0ba902b7-01", None),
        ("ff-" + TRACE_A + "-00f067aa0ba902b7-01", None),
        ("00-nothex-00f067aa0ba902b7-01", None),
        ("", None),
        (None, None),
    ],
)
def test_the_trace_id_comes_from_a_valid_traceparent_only(header: str | None, expected: str | None) -> None:
    assert trace_id_of(header) == expected


def test_records_keep_their_trace_id_and_the_trace_lists_each_distinct_one() -> None:
    def record(mid: str, cause: str | None, trace: str, offset: int) -> IndexedMessage:
        headers = [
            ("message_id", mid.encode()),
            ("correlation_id", b"c"),
            ("causation_id", (cause or "").encode()),
            ("traceparent", f"00-{trace}-00f067aa0ba902b7-01".encode()),
        ]
        return message_of("t", 0, offset, b"k", b"{}", headers, 1_735_689_600_000 + offset)

    first = record("a", None, TRACE_A, 0)
    assert first.trace_id == TRACE_A
    trace = build_trace("c", ["c"], [first, record("b", "a", TRACE_A, 1), record("x", None, TRACE_B, 2)])
    document = trace.to_dict()
    assert document["trace_ids"] == [TRACE_A, TRACE_B]
    assert nodes_by_id(document)["x"]["trace_id"] == TRACE_B
