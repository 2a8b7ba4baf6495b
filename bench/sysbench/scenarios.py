"""Steps of open-loop load and what is built from them: seeding, find-the-maximum, latency levels.

A step offers ``rate`` orders/s for ``seconds`` (plus GET /storefront reads at ``read_rate``), waits
up to ``grace_s`` for the accepted orders to be fulfilled, and returns its figures with the CPU
seconds and peak memory of every process during the step. Before a step starts, orders left over
from an overloaded earlier step are allowed to drain, so each step starts from an idle system.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .analysis import fulfilled_at, passed, step_figures
from .http import Client
from .loadgen import Orders, Sent, StorefrontReads, open_loop
from .procs import SYSTEM, ProcessMonitor
from .target import ADMIN, Target
from .watcher import Tracker

Judge = Callable[[Tracker, Sent], float | None]


@dataclass
class Settings:
    books: int = 200
    step_s: float = 6.0
    grace_s: float = 5.0
    settle_s: float = 90.0
    slo_p99_s: float = 1.0
    read_rate: float = 20.0
    steady_rate: float = 100.0
    levels: tuple[float, ...] = (0.25, 0.5, 0.8)
    ramp: tuple[float, ...] = (10, 20, 35, 50, 75, 100, 150, 200, 300, 400, 550, 750)
    verbose: bool = True


class Bench:
    """One system under test, its watcher and process monitor, and an HTTP client pool."""

    def __init__(
        self,
        target: Target,
        tracker: Tracker,
        monitor: ProcessMonitor,
        http: Client,
        settings: Settings,
        prefix: str,
    ) -> None:
        self.target = target
        self.tracker = tracker
        self.monitor = monitor
        self.http = http
        self.settings = settings
        self.prefix = prefix
        self.books: list[str] = []
        self.orders = Orders(http, target.url("ordering", "/orders"), [], prefix, seed=7)
        self.outstanding: list[Sent] = []

    def say(self, text: str) -> None:
        if self.settings.verbose:
            print(text, flush=True)

    # --- seeding -------------------------------------------------------------------------------
    async def add_books(self, count: int, title: str, stock: int) -> list[str]:
        """POST /books ``count`` times, wait for inventory's records, restock each to ``stock``."""
        gate = asyncio.Semaphore(16)

        async def add(i: int) -> str:
            body = {
                "title": f"{title} {i}",
                "author": f"Bench Author {i % 20}",
                "genre": "FICTION",
                "price": {"amount": f"{5 + i % 20}.99", "currency": "USD"},
            }
            async with gate:
                answer = await self.http.post(self.target.url("catalog", "/books"), json=body, headers=ADMIN)
            answer.raise_for_status()
            book_id: str = answer.json()["book_id"]
            return book_id

        books = list(await asyncio.gather(*(add(i) for i in range(count))))

        async def restock(book: str) -> None:
            deadline = time.monotonic() + 120
            async with gate:
                while True:
                    level = await self.http.get(self.target.url("inventory", f"/inventory/{book}"))
                    if level.status_code == 200:
                        break
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"inventory never created the stock record of {book}")
                    await asyncio.sleep(0.2)
                extra = stock - level.json()["available"]
                if extra > 0:
                    url = self.target.url("inventory", f"/inventory/{book}/restock")
                    answer = await self.http.post(url, json={"quantity": extra}, headers=ADMIN)
                    answer.raise_for_status()

        await asyncio.gather(*(restock(b) for b in books))
        return books

    async def seed(self) -> None:
        """N books with stock that never runs out; then one order per book until ordering's replica
        and the storefront know them all (those orders warm the system up and are not measured)."""
        started = time.monotonic()
        self.books = await self.add_books(self.settings.books, f"Bench {self.prefix}", 100_000)
        self.orders.books = self.books
        todo = list(self.books)
        deadline = time.monotonic() + 120
        while todo:
            queue = iter(list(todo))

            async def one(item: Sent, queue: Any = queue) -> None:
                await self.orders.fire(item, books=[next(queue)], quantity=1)

            rate = min(100.0, float(len(todo)))
            sent = await open_loop(rate, len(todo) / rate, one)
            todo = [s.books[0] for s in sent if s.status != 201]
            self.outstanding += [s for s in sent if s.status == 201]
            if todo and time.monotonic() > deadline:
                raise TimeoutError(f"ordering never accepted orders for {len(todo)} books")
            if todo:
                await asyncio.sleep(0.5)
        await self.settle()
        self.say(f"seeded {len(self.books)} books in {time.monotonic() - started:.1f} s")

    # --- steps ---------------------------------------------------------------------------------
    async def wait_done(self, sent: Sequence[Sent], until: float, judge: Judge = fulfilled_at) -> list[Sent]:
        """Wait until every accepted order is judged done or ``until`` passes; returns those left."""
        pending = [s for s in sent if s.status == 201]
        while pending:
            pending = [s for s in pending if judge(self.tracker, s) is None]
            if not pending or time.monotonic() >= until:
                break
            await asyncio.sleep(0.05)
        return pending

    async def settle(self) -> None:
        """Let orders left over from earlier steps finish before the next step starts."""
        if self.outstanding:
            left = await self.wait_done(self.outstanding, time.monotonic() + self.settings.settle_s)
            if left:
                self.say(f"  {len(left)} orders still unfulfilled after {self.settings.settle_s:g} s")
            self.outstanding = []
        await asyncio.sleep(0.5)

    async def step(self, rate: float, seconds: float | None = None, *, reads: bool = True) -> dict[str, Any]:
        """One open-loop step (see the module doc)."""
        await self.settle()
        seconds = seconds or self.settings.step_s
        window = self.monitor.window()
        shop = StorefrontReads(self.http, self.target.url("storefront-query"), self.books)
        jobs = [open_loop(rate, seconds, self.orders.fire)]
        if reads and self.settings.read_rate:
            jobs.append(open_loop(self.settings.read_rate, seconds, shop.fire))
        results = await asyncio.gather(*jobs)
        sent, got = results[0], (results[1] if len(results) > 1 else [])
        left = await self.wait_done(sent, max(s.done for s in sent) + self.settings.grace_s)
        self.outstanding += left
        figures = step_figures(sent, self.tracker, rate, seconds, got)
        figures["processes"] = usage = self.monitor.close(window)
        done = figures["fulfilled"] or 1
        figures["cpu_ms_per_order"] = {g: round(s / done * 1000, 2) for g, s in usage["cpu_s"].items()}
        figures["passed"] = passed(figures, self.settings.slo_p99_s)
        lat, post = figures["latency_ms"], figures["post_orders_ms"]
        self.say(
            f"  {rate:6.1f}/s: fulfilled {figures['fulfilled_per_s']:6.1f}/s, POST->fulfilled p50 "
            f"{lat['p50']} p99 {lat['p99']} ms, POST p99 {post['p99']} ms, unfulfilled "
            f"{figures['unfulfilled']}, errors {figures['errors']}, CPU/order "
            f"{figures['cpu_ms_per_order'].get(SYSTEM)} ms [{'pass' if figures['passed'] else 'FAIL'}]"
        )
        return figures

    async def find_max(self, rates: Sequence[float]) -> tuple[float, list[dict[str, Any]]]:
        """Raise the rate until a step is not sustained, then try once between the last two."""
        steps: list[dict[str, Any]] = []
        best, failed_at = 0.0, None
        for rate in rates:
            figures = await self.step(rate, reads=False)
            steps.append(figures)
            if not figures["passed"]:
                failed_at = rate
                break
            best = rate
        if failed_at is not None and best and failed_at / best > 1.15:
            middle = round((best + failed_at) / 2)
            figures = await self.step(middle, reads=False)
            steps.append(figures)
            if figures["passed"]:
                best = middle
        return best, steps

    async def run(self, index: int, hint: float | None) -> dict[str, Any]:
        """One run: the maximum, latency at fractions of it, and the steady rate of the targets."""
        self.say(f"run {index}: find the maximum")
        window = self.monitor.window()
        ramp = (round(hint * f) for f in (0.8, 1.0, 1.2, 1.45, 1.75)) if hint else self.settings.ramp
        rates = list(ramp)
        best, steps = await self.find_max(rates)
        at_max = next((s for s in steps if s["rate"] == best), None)
        levels = {}
        for fraction in self.settings.levels if best else ():
            self.say(f"run {index}: {fraction:.0%} of the maximum")
            levels[f"{fraction:.0%}"] = await self.step(round(best * fraction, 1))
        self.say(f"run {index}: steady {self.settings.steady_rate:g}/s")
        steady = await self.step(self.settings.steady_rate)
        usage = self.monitor.close(window)
        return {
            "max_rate": best,
            "fulfilled_per_s_at_max": at_max["fulfilled_per_s"] if at_max else None,
            "saturation_fulfilled_per_s": max(s["fulfilled_per_s"] for s in steps),
            "ramp": steps,
            "levels": levels,
            "steady": steady,
            "peak_rss_mb": usage["peak_rss_mb"],
            "peak_pss_mb": usage["peak_pss_mb"],
        }
