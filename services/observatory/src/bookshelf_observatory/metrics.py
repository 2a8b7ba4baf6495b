"""Prometheus metrics of the observatory (default registry, served at ``/metrics``)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

INDEXED = Counter("bookshelf_observatory_indexed_total", "Records written to the index", ["topic"])
INDEX_BATCH = Histogram(
    "bookshelf_observatory_index_batch_size",
    "Records per index statement batch",
    buckets=(1, 10, 50, 100, 250, 500, 1000, 2500, 5000),
)
INDEX_FAILURES = Counter(
    "bookshelf_observatory_index_failures_total", "Index batches that failed and were retried", ["error_type"]
)
INDEX_LAG = Gauge(
    "bookshelf_observatory_index_lag", "Records not indexed yet (fetch high watermark - position)", ["topic"]
)
PRUNED = Counter("bookshelf_observatory_pruned_total", "Index rows deleted after the retention period")
