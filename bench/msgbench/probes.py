"""What every phase shares: peak RSS and CPU per process tree, the event it publishes, polling with a
deadline, a fresh database."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import threading
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import psutil
from bookshelf_contracts import BookAdded, Money
from bookshelf_infra.postgres import EmbeddedPostgres

KEYS = 1000  # distinct book ids: the consumer's upsert table stays small


class RssSampler:
    """Samples the RSS of named process trees every 50 ms in a thread; keeps the peak of each."""

    def __init__(self, roots: dict[str, int]) -> None:
        self.roots = roots
        self.peak_mb: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _tree_rss(self, pid: int) -> float:
        total = 0
        for proc in _tree(pid):
            with contextlib.suppress(psutil.NoSuchProcess):
                total += proc.memory_info().rss
        return total / 2**20

    def _loop(self) -> None:
        while not self._stop.wait(0.05):
            for name, pid in list(self.roots.items()):  # members are added while sampling
                self.peak_mb[name] = max(self.peak_mb.get(name, 0.0), self._tree_rss(pid))

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


# CPU seconds per process tree, to report CPU per event: unlike wall time it barely moves when other
# work on a shared machine competes for the cores.
CPU_ROOTS: dict[str, int] = {}


def _tree(pid: int) -> list[psutil.Process]:
    """The process and its descendants (empty once it is gone)."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _tree_cpu(pid: int) -> float:
    total = 0.0
    for proc in _tree(pid):
        with contextlib.suppress(psutil.NoSuchProcess):
            t = proc.cpu_times()
            total += t.user + t.system + t.children_user + t.children_system  # + exited backends
    return total


def cpu_snapshot() -> dict[str, float]:
    return {name: _tree_cpu(pid) for name, pid in CPU_ROOTS.items()}


def cpu_per_event(before: dict[str, float], events: int) -> dict[str, float]:
    """CPU microseconds per event spent by each process tree since ``before``."""
    after = cpu_snapshot()
    used = {f"cpu_us_per_event_{name}": (after[name] - before[name]) / events * 1e6 for name in before}
    used["cpu_us_per_event_total"] = sum(used.values())
    return used


def book(book_id: uuid.UUID, n: int) -> BookAdded:
    return BookAdded(
        book_id=book_id,
        title=f"Book {n}",
        author="Bench Author",
        price=Money(amount=Decimal("12.50"), currency="USD"),
        version=1,
    )


async def wait_for(check: Callable[[], Any], within: float, what: str) -> None:
    """Poll ``check`` (sync or async) every 2 ms until true (a deadline, never a blind sleep)."""
    deadline = time.perf_counter() + within
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{what} not reached in {within:g} s")
        await asyncio.sleep(0.002)


async def fresh_db(pg: EmbeddedPostgres, prefix: str) -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    await pg.create_database_async(name)
    return pg.sqlalchemy_url(name)
