"""Open-loop HTTP load: requests leave at scheduled times whether or not earlier ones answered.

``open_loop`` fires request ``i`` at ``t0 + i / rate`` (each on its own task, through one
aiohttp session with a connection pool, see http.py); a generator that falls behind fires late requests at
once and the delay is recorded as send lag, so a saturated generator shows up in the figures instead
of silently lowering the rate. ``calibrate`` measures the generator's own limit against a trivial
HTTP server in another process.
"""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import orjson
from bookshelf_infra.testing import free_port

from .http import Client, TransportErrors

JSON = {"content-type": "application/json"}
# The load generator places orders as staff: the per-client rate limit of POST /orders spares the
# staff token, and the bench measures the system, not the abuse limit.
STAFF = {"Authorization": "Bearer dev-admin-token"}


@dataclass(slots=True)
class Sent:
    """One request: when it was due, sent and answered (monotonic seconds), and its outcome."""

    intended: float
    started: float = 0.0
    done: float = 0.0
    status: int = 0  # 0: no answer (transport error, timeout)
    order_id: str | None = None
    corr: str = ""
    books: tuple[str, ...] = ()

    @property
    def lag(self) -> float:
        return self.started - self.intended


def client(connections: int = 256) -> Client:
    return Client(connections)


async def open_loop(
    rate: float, duration: float, fire: Callable[[Sent], Awaitable[None]], *, start_in: float = 0.02
) -> list[Sent]:
    """Fire ``rate * duration`` requests on schedule; returns them once all answered."""
    count = max(1, round(rate * duration))
    t0 = time.monotonic() + start_in
    sent: list[Sent] = []
    tasks: list[asyncio.Task[None]] = []
    for i in range(count):
        at = t0 + i / rate
        delay = at - time.monotonic()
        if delay > 0.0005:
            await asyncio.sleep(delay)
        item = Sent(intended=at)
        sent.append(item)
        tasks.append(asyncio.create_task(_run(fire, item)))
    await asyncio.gather(*tasks)
    return sent


async def _run(fire: Callable[[Sent], Awaitable[None]], item: Sent) -> None:
    item.started = time.monotonic()
    try:
        await fire(item)
    except TransportErrors:
        item.status = 0
    item.done = time.monotonic()


class Orders:
    """POST /orders of 1-3 lines (distinct books, 1-2 copies each), correlation ids ``<prefix><n>``."""

    def __init__(self, http: Client, url: str, books: Sequence[str], prefix: str, seed: int) -> None:
        self.http = http
        self.url = url
        self.books = list(books)
        self.prefix = prefix
        self.rng = random.Random(seed)
        self.count = 0

    def body(self, books: Sequence[str], quantities: Sequence[int]) -> bytes:
        return orjson.dumps(
            {
                "customer": {"name": "Bench Customer", "email": "bench@example.com"},
                "shipping_address": {
                    "street": "1 Bench St",
                    "city": "Springfield",
                    "zip_code": "12345",
                    "country": "US",
                },
                "items": [{"book_id": b, "quantity": q} for b, q in zip(books, quantities, strict=True)],
            }
        )

    async def fire(self, item: Sent, books: Sequence[str] | None = None, quantity: int | None = None) -> None:
        """Place one order (random lines unless ``books``/``quantity`` say otherwise)."""
        if books is None:
            books = self.rng.sample(self.books, self.rng.randint(1, min(3, len(self.books))))
        quantities = [quantity or self.rng.randint(1, 2) for _ in books]
        self.count += 1
        item.corr = f"{self.prefix}{self.count}"
        item.books = tuple(books)
        answer = await self.http.post(
            self.url,
            content=self.body(books, quantities),
            headers={**JSON, **STAFF, "X-Correlation-ID": item.corr},
        )
        item.status = answer.status_code
        if answer.status_code == 201:
            item.order_id = orjson.loads(answer.content)["order_id"]


class StorefrontReads:
    """GET /storefront (list pages with filters and sorts) and GET /storefront/{id}, in rotation."""

    def __init__(self, http: Client, base: str, books: Sequence[str]) -> None:
        self.http = http
        self.paths = [
            "/storefront?limit=20",
            "/storefront?in_stock=true&sort=-available&limit=20",
            "/storefront?q=bench&limit=20",
            "/storefront?sort=-updated_at&limit=20",
            "/storefront?min_price=5&max_price=20&sort=price&limit=20",
            *(f"/storefront/{b}" for b in books[:5]),
        ]
        self.base = base
        self.count = 0

    async def fire(self, item: Sent) -> None:
        path = self.paths[self.count % len(self.paths)]
        self.count += 1
        item.status = (await self.http.get(self.base + path)).status_code


DUMMY_SERVER = r"""
import asyncio, sys, uvloop
BODY = b'{"order_id":"00000000-0000-0000-0000-000000000000","status":"PENDING"}'
RESP = b"HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (len(BODY), BODY)
async def handle(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            size = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    size = int(line[15:])
            if size:
                await reader.readexactly(size)
            writer.write(RESP)
    except Exception:
        writer.close()
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", int(sys.argv[1]), backlog=4096)
    async with server:
        await server.serve_forever()
uvloop.run(main())
"""


async def calibrate(rates: Sequence[int] = (250, 500, 1000, 2000), seconds: float = 2.0) -> dict[str, object]:
    """The highest order rate this generator sends on time (send lag p99 <= 5 ms) against a server
    that answers at once, and the generator's CPU per request."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", DUMMY_SERVER, str(port)])  # noqa: ASYNC220
    steps = []
    try:
        async with client() as http:
            for _ in range(100):  # wait for the server to listen
                try:
                    await http.get(f"http://127.0.0.1:{port}/")
                    break
                except TransportErrors:
                    await asyncio.sleep(0.05)
            orders = Orders(http, f"http://127.0.0.1:{port}/orders", [str(i) for i in range(10)], "cal-", 1)
            best = 0
            for rate in rates:
                cpu = time.process_time()
                sent = await open_loop(rate, seconds, orders.fire)
                cpu = time.process_time() - cpu
                lags = sorted(s.lag for s in sent)
                lag_p99 = lags[int(0.99 * (len(lags) - 1))]
                steps.append(
                    {
                        "rate": rate,
                        "lag_p99_ms": round(lag_p99 * 1000, 2),
                        "cpu_us_per_request": round(cpu / len(sent) * 1e6),
                    }
                )
                if lag_p99 > 0.005:
                    break
                best = rate
    finally:
        server.kill()
        server.wait()
    return {"max_on_time_rate": best, "steps": steps}
