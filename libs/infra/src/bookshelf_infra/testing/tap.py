"""``Tap``: every record of some topics, read from the beginning in the background, for tests to poll.

No consumer group: the tap assigns itself every partition and seeks to the beginning, so it has no
group to join (nothing to wait for) and never takes partitions from another reader.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any, Protocol, Self, TypeAlias

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord

from . import eventually, partitions_of

__all__ = [
    "KafkaClient",
    "Match",
    "Record",
    "Tap",
    "data_has",
    "envelope_of",
    "event",
    "header",
    "headers_of",
]

Record: TypeAlias = ConsumerRecord[bytes, bytes]
Match: TypeAlias = Callable[[Record], bool]


class KafkaClient(Protocol):
    """Connection settings of the brokers (``bookshelf_messaging.KafkaSettings``)."""

    def aiokafka_kwargs(self) -> dict[str, Any]: ...


class Tap:
    """Reads ``topics`` from the beginning in a task and keeps every record (``records``), in order of
    arrival. ``async with Tap(kafka, topic) as tap`` starts and stops it."""

    def __init__(self, kafka: KafkaClient, *topics: str) -> None:
        self.topics = topics
        self.records: list[Record] = []
        self._consumer = AIOKafkaConsumer(
            **kafka.aiokafka_kwargs(), group_id=None, enable_auto_commit=False, fetch_max_wait_ms=10
        )
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> Self:
        await self._consumer.start()
        partitions: list[TopicPartition] = []
        for topic in self.topics:
            partitions += [TopicPartition(topic, p) for p in await partitions_of(self._consumer, topic)]
        self._consumer.assign(partitions)
        await self._consumer.seek_to_beginning(*partitions)
        self._task = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        while True:
            for batch in (await self._consumer.getmany(timeout_ms=100)).values():
                self.records.extend(batch)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
        await self._consumer.stop()

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def matching(self, match: Match) -> list[Record]:
        """The records read so far that ``match``, in order of arrival."""
        return [record for record in self.records if match(record)]

    async def wait_for(
        self,
        match: Match,
        *,
        count: int = 1,
        timeout: float = 30,  # noqa: ASYNC109 - a polling deadline, not a cancellation scope
    ) -> list[Record]:
        """Poll until at least ``count`` records match; returns the matches in order of arrival."""

        def found() -> list[Record]:
            hits = self.matching(match)
            return hits if len(hits) >= count else []

        topics = ", ".join(self.topics)
        return await eventually(found, timeout=timeout, message=f"{count} matching record(s) on {topics}")

    async def first(self, match: Match, *, timeout: float = 30) -> Record:  # noqa: ASYNC109
        """The first record that matches, polling until ``timeout``."""
        return (await self.wait_for(match, timeout=timeout))[0]


def envelope_of(record: Record) -> dict[str, Any]:
    """The JSON value of a record (a Bookshelf envelope: ``type``, ``data``, ``correlation_id`` ...)."""
    value: dict[str, Any] = json.loads(record.value or b"null") or {}
    return value


def headers_of(record: Record) -> dict[str, str]:
    """A record's headers as text."""
    return {name: (value or b"").decode() for name, value in record.headers or ()}


def header(record: Record, name: str) -> str:
    """One header of a record as text ('' when absent)."""
    return headers_of(record).get(name, "")


def event(type_name: str, **fields: Any) -> Match:
    """Matches envelopes of ``type_name`` whose ``data`` fields equal ``fields`` (compared as text, so
    UUIDs and decimals match their JSON form)."""

    def match(record: Record) -> bool:
        envelope = envelope_of(record)
        data = envelope.get("data", {})
        return envelope.get("type") == type_name and all(
            str(data.get(k)) == str(v) for k, v in fields.items()
        )

    return match


def data_has(**expected: Any) -> Match:
    """Matches envelopes whose ``data`` has these field values."""

    def match(record: Record) -> bool:
        data = envelope_of(record).get("data", {})
        return all(data.get(key) == value for key, value in expected.items())

    return match
