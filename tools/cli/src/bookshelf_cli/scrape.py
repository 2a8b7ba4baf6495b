"""Read the services' Prometheus metrics (for what only a consumer knows: its fetch position)."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bookshelf_cli.lag import PositionLag

POSITION_LAG = "bookshelf_consumer_lag"


def parse_position_lag(text: str) -> PositionLag:
    """``bookshelf_consumer_lag{group, topic, partition}`` samples of one /metrics page."""
    found: PositionLag = {}
    for family in text_string_to_metric_families(text):
        if family.name != POSITION_LAG:
            continue
        for sample in family.samples:
            labels = sample.labels
            try:
                key = (labels["group"], labels["topic"], int(labels["partition"]))
            except (KeyError, ValueError):
                continue
            found[key] = sample.value
    return found


def position_lag(base_urls: list[str], timeout_s: float = 1.0) -> PositionLag:
    """The position lag every reachable service reports; services that do not answer are skipped."""
    found: PositionLag = {}
    with httpx.Client(timeout=timeout_s) as client:
        for url in base_urls:
            try:
                answer = client.get(f"{url}/metrics")
            except httpx.HTTPError:
                continue
            if answer.status_code == 200:
                found.update(parse_position_lag(answer.text))
    return found
