"""Lag per group and topic; saga summaries; outbox gauges from /metrics; service URLs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bookshelf_observatory.adapters.probes import outbox_from_metrics
from bookshelf_observatory.config import ObservatorySettings
from bookshelf_observatory.domain.lag import group_lag, lane_of
from bookshelf_observatory.domain.sagas import summarize

NOW = datetime(2025, 1, 1, 12, tzinfo=UTC)


def test_lag_is_watermark_minus_committed_with_the_age_of_the_oldest_unconsumed_record() -> None:
    committed = {("a", 0): 5, ("a", 1): 10, ("a.bulk", 0): 3}
    highs = {("a", 0): 8, ("a", 1): 10, ("a.bulk", 0): 3}
    times = {("a", 0, 5): NOW - timedelta(seconds=12)}
    rows = {r.topic: r for r in group_lag("g", committed, highs, times, NOW)}
    assert (rows["a"].records, rows["a"].seconds, rows["a"].partitions, rows["a"].lane) == (
        3,
        12.0,
        2,
        "primary",
    )
    assert (rows["a.bulk"].records, rows["a.bulk"].seconds, rows["a.bulk"].lane) == (0, 0.0, "bulk")


def test_lag_seconds_are_unknown_when_the_record_is_not_indexed() -> None:
    (row,) = group_lag("g", {("a", 0): 1}, {("a", 0): 4}, {}, NOW)
    assert (row.records, row.seconds) == (3, None)
    assert lane_of("x.dlq") == "dlq"


def test_stuck_sagas_are_past_their_deadline_in_a_deadline_state() -> None:
    past, future = (NOW - timedelta(seconds=30)).isoformat(), (NOW + timedelta(seconds=30)).isoformat()
    instances = [
        {"order_id": "1", "state": "AWAITING_STOCK", "deadline": past},
        {"order_id": "2", "state": "AWAITING_SHIPMENT", "deadline": future},
        {"order_id": "3", "state": "DELIVERED", "deadline": past},
        {"order_id": "4", "state": "AWAITING_SHIPMENT", "deadline": None},
    ]
    summary = summarize(instances, NOW)
    assert summary["total"] == 4
    assert summary["by_state"] == [
        {"state": "AWAITING_STOCK", "count": 1},
        {"state": "AWAITING_SHIPMENT", "count": 2},
        {"state": "DELIVERED", "count": 1},
    ]
    assert [(s["order_id"], s["overdue_s"]) for s in summary["stuck"]] == [("1", 30.0)]


def test_outbox_backlog_comes_from_the_relay_gauges() -> None:
    text = (
        "# TYPE bookshelf_outbox_backlog gauge\n"
        'bookshelf_outbox_backlog{service="catalog"} 7.0\n'
        "# TYPE bookshelf_outbox_oldest_unpublished_age_seconds gauge\n"
        'bookshelf_outbox_oldest_unpublished_age_seconds{service="catalog"} 2.5\n'
    )
    assert outbox_from_metrics(text) == (7, 2.5)
    assert outbox_from_metrics("# nothing\n") is None


def test_service_urls_follow_the_ports_of_bookshelf_run(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CATALOG_PORT", "18001")
    urls = ObservatorySettings(env="dev").service_urls()
    assert urls["catalog"] == "http://127.0.0.1:18001"
    assert urls["fulfillment"] == "http://127.0.0.1:8006"
    custom = ObservatorySettings(env="dev", services="catalog=http://c:1/, x=http://x:2").service_urls()
    assert custom == {"catalog": "http://c:1", "x": "http://x:2"}


def test_the_indexed_topics_are_the_systems_and_not_fausts_internals() -> None:
    import re

    from bookshelf_contracts import all_topic_names
    from bookshelf_observatory.config import TOPIC_PATTERN

    pattern = re.compile(TOPIC_PATTERN)
    assert all(pattern.match(name) for name in [*all_topic_names(), "fulfillment.deadlines"])
    for internal in (
        "fulfillment.saga-fulfillments-changelog",
        "fulfillment.saga-__assignor-__leader",
        "x.y",
    ):
        assert not pattern.match(internal), internal
