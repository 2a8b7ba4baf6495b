"""Chart columns (slots, throughput per second, lag gaps), lag per group, the oldest saga per state,
and the event stream's change detection."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from bookshelf_observatory.domain.charts import Window, lag_chart, lag_per_group, throughput_chart
from bookshelf_observatory.domain.sagas import by_state
from bookshelf_observatory.entrypoints.live import format_event, parse_event_id, stream

NOW = datetime(2025, 1, 1, 12, 0, 7, tzinfo=UTC)  # slot 12:00:05 with 5-s slots
LAST = int(datetime(2025, 1, 1, 12, 0, 5, tzinfo=UTC).timestamp())


def test_the_window_has_one_slot_per_step_ending_with_the_current_one() -> None:
    window = Window(NOW.timestamp(), window_s=900, step_s=5)
    slots = window.slots()
    assert len(slots) == 180
    assert slots[-1] == LAST == window.last_slot
    assert slots[0] == LAST - 179 * 5 == window.first_slot
    assert all(b - a == 5 for a, b in itertools.pairwise(slots))


def test_throughput_is_records_per_second_per_slot_with_zeros_and_the_busiest_topics_first() -> None:
    window = Window(NOW.timestamp(), window_s=30, step_s=5)
    counts = {"quiet": {LAST: 1.0}, "busy": {LAST - 5: 10.0, LAST: 20.0}, "old": {LAST - 3600: 99.0}}
    chart = throughput_chart(window, counts, limit=2)
    assert chart["unit"] == "records/s"
    assert chart["x"] == [LAST - 25, LAST - 20, LAST - 15, LAST - 10, LAST - 5, LAST]
    assert [s["name"] for s in chart["series"]] == ["old", "busy"]  # ranked by the sum they were given
    busy = chart["series"][1]
    assert busy["values"] == [0.0, 0.0, 0.0, 0.0, 2.0, 4.0]
    assert busy["total"] == 30
    assert chart["series"][0]["total"] == 0  # outside the window: nothing drawn


def test_lag_keeps_gaps_where_no_sample_was_taken() -> None:
    window = Window(NOW.timestamp(), window_s=15, step_s=5)
    chart = lag_chart(window, {"g": {LAST - 10: 7.0, LAST: 0.0}})
    assert chart["series"] == [{"name": "g", "values": [7.0, None, 0.0], "total": 7}]


def test_lag_per_group_sums_records_and_keeps_the_largest_age() -> None:
    rows = [
        {"group": "a", "topic": "t1", "records": 3, "seconds": 1.5},
        {"group": "a", "topic": "t2", "records": 4, "seconds": None},
        {"group": "a", "topic": "t3", "records": 0, "seconds": 0.0},
        {"group": "b", "topic": "t1", "records": 0, "seconds": None},
    ]
    assert lag_per_group(rows) == {"a": (7, 1.5), "b": (0, None)}


def test_saga_states_in_saga_order_with_their_oldest_instance_and_its_age() -> None:
    states = [
        {"state": "SHIPPED", "count": 2, "oldest": {"order_id": "o2", "created_at": "2025-01-01T11:59:00Z"}},
        {"state": "CANCELLED", "count": 0, "oldest": None},
        {
            "state": "AWAITING_STOCK",
            "count": 1,
            "oldest": {"order_id": "o1", "created_at": "2025-01-01T11:00:07+00:00", "updated_at": None},
        },
        {"state": "DELIVERED", "count": 1, "oldest": None},
    ]
    rows = by_state(states, NOW)
    assert [(r["state"], r["count"]) for r in rows] == [
        ("AWAITING_STOCK", 1),
        ("SHIPPED", 2),
        ("DELIVERED", 1),
    ]
    assert rows[0]["oldest"]["order_id"] == "o1"
    assert rows[0]["oldest"]["age_s"] == 3600.0
    assert rows[1]["oldest"]["age_s"] == 67.0
    assert rows[2]["oldest"] is None


def test_an_event_carries_each_line_as_data_and_its_id_names_what_was_shown() -> None:
    assert format_event("partial", "<p>\n</p>", "partial:abc") == (
        "id: partial:abc\nevent: partial\ndata: <p>\ndata: </p>\n\n"
    )
    assert parse_event_id("charts:def.partial:abc") == {"charts": "def", "partial": "abc"}
    assert parse_event_id("junk") == {}


async def test_a_stream_sends_only_parts_that_changed_and_ends_after_its_lifetime() -> None:
    ticks = iter([[("partial", "a"), ("charts", "1")], [("partial", "a"), ("charts", "2")]])

    async def produce() -> list[tuple[str, str]]:
        return next(ticks, [("partial", "a"), ("charts", "2")])

    events = [e async for e in stream(produce, interval_s=0.01, lifetime_s=0.5, last_event_id="")]
    sent = [e.split("event: ")[1].split("\n")[0] for e in events if "event: " in e]
    assert events[0].startswith("retry: ")
    assert sent == ["partial", "charts", "charts"]  # "a" once; "1" then "2"; then nothing new
    assert any(e.startswith(": unchanged") for e in events)
    # A reconnect that names what it has seen gets nothing again.
    last_id = [e for e in events if e.startswith("id: ")][-1].split("\n")[0].removeprefix("id: ")

    async def same() -> list[tuple[str, str]]:
        return [("partial", "a"), ("charts", "2")]

    again = [e async for e in stream(same, interval_s=0.01, lifetime_s=0.001, last_event_id=last_id)]
    assert [e for e in again if "event: " in e] == []
