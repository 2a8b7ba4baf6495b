"""Helpers for tests: poll with a deadline instead of sleeping, unique names, free ports."""

from __future__ import annotations

import asyncio
import inspect
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from .._net import free_port

__all__ = ["TestDatabase", "eventually", "free_port", "partitions_of", "unique_name"]

T = TypeVar("T")


async def eventually(
    check: Callable[[], T | Awaitable[T]],
    *,
    timeout: float = 10.0,  # noqa: ASYNC109 - a polling deadline, not a cancellation scope
    interval: float = 0.02,
    message: str = "condition not met",
) -> T:
    """Call ``check`` (sync or async) until it returns something truthy, and return that value.

    Exceptions raised by ``check`` count as "not yet" (so plain ``assert`` statements work inside it).
    When ``timeout`` seconds pass, raises AssertionError with ``message``, the number of attempts and
    the last exception or falsy value.
    """
    deadline = time.monotonic() + timeout
    attempts = 0
    last: str = "no attempt finished"
    last_exc: BaseException | None = None
    while True:
        attempts += 1
        try:
            result = check()
            if inspect.isawaitable(result):
                result = await result
            if result:
                return result
            last, last_exc = f"last value: {result!r}", None
        except Exception as exc:
            last, last_exc = f"last error: {type(exc).__name__}: {exc}", exc
        if time.monotonic() >= deadline:
            raise AssertionError(
                f"{message} (after {timeout:g} s and {attempts} attempts; {last})"
            ) from last_exc
        await asyncio.sleep(interval)


async def partitions_of(consumer: Any, topic: str, *, timeout: float = 20.0) -> list[int]:  # noqa: ASYNC109
    """The partition numbers of ``topic``, for an aiokafka consumer to ``assign``.

    An unsubscribed aiokafka consumer asks Kafka for the metadata of no topic (``partitions_for_topic``
    answers None), and ``topics()`` does not fill its cache: this asks its client for all of it.
    """

    async def known() -> set[int]:
        cluster = await consumer._client.fetch_all_metadata()
        partitions: set[int] = cluster.partitions_for_topic(topic) or set()
        return partitions

    found: set[int] = await eventually(known, timeout=timeout, message=f"topic {topic} unknown to the broker")
    return sorted(found)


def unique_name(prefix: str = "t") -> str:
    """``prefix`` plus 12 hex digits, e.g. ``orders_1a2b3c4d5e6f``.

    Use a prefix of lowercase letters, digits and ``_`` to stay valid as a Kafka topic, consumer group
    and unquoted PostgreSQL database name (63 bytes at most).
    """
    sep = "" if not prefix or prefix[-1] in "._-" else "_"
    return f"{prefix}{sep}{uuid.uuid4().hex[:12]}"


@dataclass(frozen=True)
class TestDatabase:
    """A database created for one test: its name, asyncpg DSN and SQLAlchemy (asyncpg) URL."""

    __test__ = False  # not a test class, despite the name

    name: str
    dsn: str
    url: str
