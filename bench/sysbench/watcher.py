"""Seeing orders fulfilled without asking about each one.

A child process (``watch``) reads, from the beginning of each partition, with one confluent-kafka
consumer (no group, nothing committed):

- ``ordering.commands``: the saga's ConfirmOrder (sent as it enters AWAITING_DISPATCH: stock reserved,
  shipment created) or CancelOrder (it gave up), key order_id: the moment the saga decided;
- ``ordering.orders``: OrderConfirmed / OrderCancelled (header ``type``, key order_id);
- ``inventory.stock``: the InventoryLevelChanged records the reservation caused (header
  ``correlation_id`` = the order's, value: book_id and the stock record version);

and polls storefront's database (the ``storefront_view`` the API reads) every ``POLL_S`` for the
books whose wanted stock version it has not shown yet: one indexed query for all of them, nothing
when nothing is pending. Only records whose correlation id starts with the bench's prefix count.
Every observation is timestamped with ``time.monotonic()`` (system-wide on Linux) when it arrives and
sent to the parent in batches; ``Tracker`` (in the parent) keeps them.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import multiprocessing as mp
import threading
import time
from collections import defaultdict
from multiprocessing.connection import Connection
from typing import Any

SAGA_COMMANDS = "ordering.commands"
DECIDED = {"ConfirmOrder": "AWAITING_DISPATCH", "CancelOrder": "CANCELLED"}
TOPICS = (SAGA_COMMANDS, "ordering.orders", "inventory.stock")
POLL_S = 0.01
FLUSH_S = 0.02
SF_SQL = "SELECT book_id::text, stock_version FROM storefront_view WHERE book_id = ANY($1::uuid[])"


def _kafka_loop(
    bootstrap: str, prefix: bytes, out: list[tuple[Any, ...]], want: dict[str, int], stop: Any
) -> None:
    import orjson
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "bench-watcher",  # never subscribes or commits: only assign()
            "enable.auto.commit": False,
            "fetch.wait.max.ms": 10,
            "fetch.min.bytes": 1,
        }
    )
    while True:  # the topics exist once the system runs
        metadata = consumer.list_topics(timeout=10)
        if all(t in metadata.topics for t in TOPICS) or stop.is_set():
            break
        time.sleep(0.5)
    consumer.assign(
        [
            TopicPartition(t, p, OFFSET_BEGINNING)
            for t in TOPICS
            if t in metadata.topics
            for p in metadata.topics[t].partitions
        ]
    )
    ready_sent = False
    while not stop.is_set():
        batch = consumer.consume(num_messages=2000, timeout=0.05)
        now = time.monotonic()
        if not ready_sent:
            out.append(("ready", now))
            ready_sent = True
        for msg in batch:
            if msg.error():
                continue
            topic = msg.topic()
            value = msg.value() or b""
            headers = dict(msg.headers() or ())
            if not headers.get("correlation_id", b"").startswith(prefix):
                continue
            kind = headers.get("type", b"").decode()
            if topic == SAGA_COMMANDS:
                if kind in DECIDED:
                    out.append(("saga", msg.key().decode(), DECIDED[kind], now))
            elif topic == "ordering.orders" and kind in ("OrderConfirmed", "OrderCancelled"):
                out.append(("ord", msg.key().decode(), kind, now))
            elif topic == "inventory.stock" and kind == "InventoryLevelChanged":
                data = orjson.loads(value)["data"]
                book, version = data["book_id"], data["version"]
                want[book] = max(want.get(book, 0), version)
                out.append(("ilc", headers["correlation_id"].decode(), book, version, now))
    consumer.close()


async def _storefront_loop(dsn: str, out: list[tuple[Any, ...]], want: dict[str, int], stop: Any) -> None:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    have: dict[str, int] = {}
    try:
        while not stop.is_set():
            pending = [b for b, v in list(want.items()) if have.get(b, 0) < v]
            if pending:
                rows = await conn.fetch(SF_SQL, pending)
                now = time.monotonic()
                for book, version in rows:
                    if version is not None and version > have.get(book, 0):
                        have[book] = version
                        out.append(("sf", book, version, now))
            await asyncio.sleep(POLL_S)
    finally:
        await conn.close()


def watch(bootstrap: str, prefix: str, dsn: str | None, conn: Connection) -> None:
    """The watcher process: runs until the parent sends anything (or goes away)."""
    out: list[tuple[Any, ...]] = []
    want: dict[str, int] = {}
    stop = threading.Event()
    kafka = threading.Thread(target=_kafka_loop, args=(bootstrap, prefix.encode(), out, want, stop))
    kafka.start()

    async def main() -> None:
        poller = asyncio.create_task(_storefront_loop(dsn, out, want, stop)) if dsn else None
        try:
            while not stop.is_set():
                if out:
                    batch = out[:]
                    del out[: len(batch)]  # atomic under the GIL: later appends stay
                    conn.send(batch)
                if conn.poll():
                    stop.set()
                await asyncio.sleep(FLUSH_S)
        finally:
            stop.set()
            if poller is not None:
                with contextlib.suppress(Exception):
                    await poller

    try:
        asyncio.run(main())
    except (BrokenPipeError, EOFError):
        stop.set()
    kafka.join()


class Tracker:
    """What the watcher saw, kept in the parent; started and stopped as a context manager."""

    def __init__(self, bootstrap: str, prefix: str, dsn: str | None) -> None:
        self.prefix = prefix
        self.saga: dict[str, dict[str, float]] = defaultdict(dict)
        self.orders: dict[str, dict[str, float]] = defaultdict(dict)
        self.ilc: dict[str, list[tuple[str, int]]] = defaultdict(list)
        self.sf_times: dict[str, list[float]] = defaultdict(list)
        self.sf_versions: dict[str, list[int]] = defaultdict(list)
        self.checks_storefront = dsn is not None
        self.ready = threading.Event()
        ctx = mp.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=watch, args=(bootstrap, prefix, dsn, child), daemon=True)
        self._reader = threading.Thread(target=self._read, daemon=True, name="tracker")

    def __enter__(self) -> Tracker:
        self._proc.start()
        self._reader.start()
        deadline = time.monotonic() + 120
        while not self.ready.wait(0.2):
            if not self._proc.is_alive():
                raise RuntimeError(f"the watcher process exited with {self._proc.exitcode}")
            if time.monotonic() > deadline:
                self.__exit__()
                raise TimeoutError("the watcher did not start reading within 120 s")
        return self

    def __exit__(self, *_exc: object) -> None:
        with contextlib.suppress(OSError):
            self._conn.send("stop")
        self._proc.join(15)
        if self._proc.is_alive():
            self._proc.terminate()
        self._reader.join(5)

    def _read(self) -> None:
        while True:
            try:
                batch = self._conn.recv()
            except (EOFError, OSError):
                return
            for event in batch:
                self._apply(event)

    def _apply(self, event: tuple[Any, ...]) -> None:
        kind = event[0]
        if kind == "saga":
            self.saga[event[1]].setdefault(event[2], event[3])
        elif kind == "ord":
            self.orders[event[1]].setdefault(event[2], event[3])
        elif kind == "ilc":
            self.ilc[event[1]].append((event[2], event[3]))
        elif kind == "sf":
            self.sf_times[event[1]].append(event[3])
            self.sf_versions[event[1]].append(event[2])
        elif kind == "ready":
            self.ready.set()

    def storefront_at(self, book: str, version: int) -> float | None:
        """When the storefront first showed ``book`` at ``version`` or later (None: not yet)."""
        versions = self.sf_versions.get(book)
        if not versions:
            return None
        index = bisect.bisect_left(versions, version)  # versions only grow
        return self.sf_times[book][index] if index < len(versions) else None
