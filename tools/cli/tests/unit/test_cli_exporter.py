"""The status exporter's gauges, its caching and its answer when collection fails (no broker)."""

from __future__ import annotations

from bookshelf_cli import lag
from bookshelf_cli.exporter import StatusCollector, status_metrics
from bookshelf_cli.status_data import StatusReport
from prometheus_client import CollectorRegistry, generate_latest

NOW = 1_700_000_000.0


def _report() -> StatusReport:
    parts = [
        lag.PartitionLag("inventory.commands", "inventory.commands", 0, 5, 9, 5, NOW - 42),
        lag.PartitionLag("inventory.catalog-events", "catalog.books.bulk", 0, 0, 0, 0, None),
    ]
    return StatusReport("k:9092", lag.summarize(parts, NOW), {"catalog.books": 3}, [])


def _scrape(collector: StatusCollector) -> str:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return generate_latest(registry).decode()


def test_gauges_of_a_report() -> None:
    samples = {
        (m.name, tuple(sorted(s.labels.items()))): s.value
        for m in status_metrics(_report())
        for s in m.samples
    }
    key = (("group", "inventory.commands"), ("lane", "primary"), ("topic", "inventory.commands"))
    assert samples[("bookshelf_consumer_lag_seconds", key)] == 42
    assert samples[("bookshelf_consumer_lag_records", key)] == 4
    bulk = (("group", "inventory.catalog-events"), ("lane", "bulk"), ("topic", "catalog.books.bulk"))
    assert samples[("bookshelf_consumer_lag_seconds", bulk)] == 0
    assert samples[("bookshelf_dlq_depth", (("topic", "catalog.books"),))] == 3


def test_scrapes_are_cached_and_failures_answer_up_0() -> None:
    calls: list[int] = []

    def collect() -> StatusReport:
        calls.append(1)
        return _report()

    collector = StatusCollector(collect, min_interval_s=60)
    first, second = _scrape(collector), _scrape(collector)
    assert "bookshelf_status_up 1.0" in first
    assert 'bookshelf_dlq_depth{topic="catalog.books"} 3.0' in second
    assert len(calls) == 1

    def broken() -> StatusReport:
        raise TimeoutError("broker down")

    text = _scrape(StatusCollector(broken, min_interval_s=0))
    assert "bookshelf_status_up 0.0" in text
    assert "bookshelf_consumer_lag_seconds" not in text
