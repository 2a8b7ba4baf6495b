"""`bookshelf status --serve PORT`: the status as Prometheus metrics, for what no service can export.

A consumer knows its own lag in records (``bookshelf_consumer_lag``) but not how old the oldest waiting
record is, and nothing counts the open entries of a dead-letter topic. This exporter measures both the
way `bookshelf status` does (fetch high watermark, committed offsets, the waiting record's timestamp;
tombstones closing entries) each time Prometheus scrapes it, at most once per `--min-interval`.
The alert rules in deploy/prometheus/alerts.yml use these names.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bookshelf_cli.status_data import StatusReport

log = logging.getLogger("bookshelf.exporter")


def status_metrics(report: StatusReport) -> list[Metric]:
    """The gauges of one report (lag seconds is 0 when nothing waits)."""
    labels = ["group", "topic", "lane"]
    seconds = GaugeMetricFamily(
        "bookshelf_consumer_lag_seconds", "Age of the oldest record a group has not consumed", labels=labels
    )
    records = GaugeMetricFamily(
        "bookshelf_consumer_lag_records",
        "Records a group has not consumed (fetch high watermark)",
        labels=labels,
    )
    for row in report.consumers:
        seconds.add_metric([row.group, row.topic, row.lane], row.seconds or 0.0)
        records.add_metric([row.group, row.topic, row.lane], float(row.records))
    depth = GaugeMetricFamily("bookshelf_dlq_depth", "Open dead letters per source topic", labels=["topic"])
    for topic, count in sorted(report.dead_letters.items()):
        depth.add_metric([topic], float(count))
    return [seconds, records, depth]


class StatusCollector(Collector):
    """Collects a fresh StatusReport per scrape (cached for ``min_interval_s``)."""

    def __init__(self, collect: Callable[[], StatusReport], min_interval_s: float) -> None:
        self._collect = collect
        self._min_interval_s = min_interval_s
        self._lock = threading.Lock()
        self._cached: tuple[float, list[Metric]] | None = None

    def _metrics(self) -> list[Metric]:
        with self._lock:
            now = time.monotonic()
            if self._cached is None or now - self._cached[0] >= self._min_interval_s:
                self._cached = (now, status_metrics(self._collect()))
            return self._cached[1]

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("bookshelf_status_up", "1 when the last status collection succeeded")
        try:
            metrics = self._metrics()
        except Exception:  # the broker or a database is down: say so instead of failing the scrape
            log.exception("status collection failed")
            up.add_metric([], 0.0)
            yield up
            return
        up.add_metric([], 1.0)
        yield up
        yield from metrics


def serve(collect: Callable[[], StatusReport], host: str, port: int, min_interval_s: float) -> None:
    """Serve /metrics until interrupted."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StatusCollector(collect, min_interval_s))
    server, thread = start_http_server(port, addr=host, registry=registry)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):  # a container stops it with SIGTERM
        signal.signal(signum, lambda *_: stop.set())
    while not stop.wait(1.0):
        pass
    server.shutdown()
    thread.join(5)
