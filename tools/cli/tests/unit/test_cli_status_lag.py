"""Lag arithmetic, group selection, metrics parsing and the status views (no broker)."""

from __future__ import annotations

from bookshelf_cli import lag, status, status_data
from bookshelf_cli.backlog import OutboxBacklog, describe_db_error
from bookshelf_cli.scrape import parse_position_lag
from rich.console import Console

NOW = 1_700_000_100.0


def _p(
    partition: int,
    committed: int | None,
    highwater: int | None,
    start: int | None = None,
    ts: float | None = None,
) -> lag.PartitionLag:
    return lag.PartitionLag("g", "catalog.books", partition, committed, highwater, start, ts)


def test_records_come_from_the_high_watermark_and_the_committed_offset() -> None:
    assert _p(0, 20, 50).records == 30
    assert _p(0, 50, 50).records == 0
    assert _p(0, 60, 50).records == 0  # committed past the end (a re-created topic): nothing waits
    assert _p(0, None, 50, start=10).records == 40  # never committed: from the log start
    assert _p(0, 5, 50, start=10).records == 40  # records 5-9 were deleted before the group read them
    assert _p(0, None, None).records is None  # did not answer


def test_summary_sums_partitions_and_ages_the_oldest_waiting_record() -> None:
    parts = [_p(0, 20, 50, 20, NOW - 90), _p(1, 7, 7, 7, None), _p(2, 0, 3, 0, NOW - 5), _p(3, 0, None)]
    [row] = lag.summarize(parts, NOW)
    assert (row.group, row.topic, row.lane, row.partitions) == ("g", "catalog.books", "primary", 4)
    assert row.records == 33
    assert row.seconds == 90
    assert row.unknown_partitions == 1
    assert row.in_flight is None


def test_lanes_are_reported_separately() -> None:
    primary = _p(0, 0, 0)
    bulk = lag.PartitionLag("g", "catalog.books.bulk", 0, 0, 5000, 0, NOW - 30)
    rows = lag.summarize([bulk, primary], NOW)
    assert [(r.topic, r.lane, r.records, r.seconds) for r in rows] == [
        ("catalog.books", "primary", 0, None),
        ("catalog.books.bulk", "bulk", 5000, 30),
    ]


def test_in_flight_is_what_members_fetched_but_did_not_commit() -> None:
    parts = [_p(0, 20, 50), _p(1, 0, 4)]
    positions = {("g", "catalog.books", 0): 10.0}  # the member is at 40: 20 fetched, not committed
    assert lag.in_flight(parts, positions) == 20
    assert lag.in_flight(parts, {}) is None
    [row] = lag.summarize(parts, NOW, positions)
    assert row.in_flight == 20


def test_group_selection_skips_the_cli_readers_and_takes_globs() -> None:
    groups = ["inventory.commands", "ordering.commands", "bookshelf-status-1a2b", "bookshelf-dlq-reader-9f"]
    assert status_data.selected(groups, None) == ["inventory.commands", "ordering.commands"]
    assert status_data.selected(groups, ["inventory.*"]) == ["inventory.commands"]


def test_group_partitions_cover_every_partition_of_each_topic_read() -> None:
    partitions = {"catalog.books": [0, 1], "catalog.books.bulk": [0, 1], "other": [0]}
    wanted = status_data.group_partitions(
        {("catalog.books", 1): 5}, {"catalog.books.bulk", "gone"}, partitions
    )
    assert wanted == [
        ("catalog.books", 0),
        ("catalog.books", 1),
        ("catalog.books.bulk", 0),
        ("catalog.books.bulk", 1),
    ]
    assert status_data.topics_in_metrics({("g", "t", 0): 1.0, ("g", "t.bulk", 3): 0.0}) == {
        "g": {"t", "t.bulk"}
    }


def test_position_lag_is_parsed_from_the_metrics_page() -> None:
    page = (
        "# HELP bookshelf_consumer_lag Records behind\n# TYPE bookshelf_consumer_lag gauge\n"
        'bookshelf_consumer_lag{group="g",lane="bulk",partition="3",topic="t.bulk"} 12.0\n'
        'bookshelf_consumer_lag{group="g",lane="primary",partition="x",topic="t"} 1.0\n'
        "# TYPE other gauge\nother 1.0\n"
    )
    assert parse_position_lag(page) == {("g", "t.bulk", 3): 12.0}


def _report() -> status_data.StatusReport:
    rows = lag.summarize([_p(0, 20, 50, 20, NOW - 90)], NOW)
    outbox = [
        OutboxBacklog("catalog", 3, 12.5),
        OutboxBacklog("observatory", None, None, "database x does not exist"),
    ]
    return status_data.StatusReport(
        "127.0.0.1:9092", rows, {"catalog.books": 2, "ordering.orders": 0}, outbox
    )


def test_status_json_document() -> None:
    doc = _report().to_json()
    assert doc["consumer_groups"][0] == {
        "group": "g",
        "topic": "catalog.books",
        "lane": "primary",
        "partitions": 1,
        "lag_records": 30,
        "lag_seconds": 90.0,
        "in_flight": None,
        "unknown_partitions": 0,
    }
    assert doc["dead_letters"] == [
        {"topic": "catalog.books", "open": 2},
        {"topic": "ordering.orders", "open": 0},
    ]
    assert doc["outbox"][0] == {
        "service": "catalog",
        "backlog": 3,
        "oldest_unpublished_age_seconds": 12.5,
        "error": None,
    }
    assert doc["outbox"][1]["error"] == "database x does not exist"


def test_status_tables_show_lag_dead_letters_and_outbox() -> None:
    console = Console(width=200, record=True)
    console.print(status.status_view(_report()))
    text = console.export_text()
    for shown in ("catalog.books", "1m30s", "30", "12.5s", "database x does not exist"):
        assert shown in text
    assert "bookshelf dlq list" in text


def test_database_errors_say_what_to_do() -> None:
    assert "bookshelf run" in describe_db_error(
        OSError("refused"), "postgresql+asyncpg://postgres@h:5433/catalog"
    )


def test_status_fits_80_columns_without_cutting_names() -> None:
    rows = [
        lag.TopicLag("storefront.catalog-events", "inventory.reservations", "bulk", 6, 123456, 4000.0, 2, 12),
        lag.TopicLag("storefront.catalog-events", "catalog.books", "primary", 6, 0, None, 0, 0),
    ]
    console = Console(width=80, record=True)
    report = status_data.StatusReport("127.0.0.1:9092", rows, {"inventory.reservations": 1}, [])
    console.print(status.status_view(report))
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "storefront.catalog-events" in text
    assert "inventory.reservations" in text
    assert "…" not in text
