"""storefront-query: GET /storefront latency at 100,000 books, and projection throughput.

    uv run python bench/storefront_bench.py [--books 100000] [--queries 600] [--events 20000] [--orders 3000]
                                            [--runs 3]

Own local Apache Kafka + PostgreSQL on free ports. (a) Latency: ``--books`` rows COPYed into the migrated
StorefrontView table (its indexes, VACUUM ANALYZE); per run the real service (``python -m
bookshelf_storefront --role api``, uvicorn) answers a mix of filtered/sorted/paginated queries over
HTTP one at a time after 100 warm-up queries: p50/p99 overall and per kind, client wall time, ``total``
included. (b) Projection: per run a fresh broker and database, the live consumers in this process,
``--events``/2 BookAdded + as many InventoryLevelChanged produced at once, timed from the first
produce until every book shows its stock; then ``--orders`` orders x (OrderPlaced, OrderConfirmed,
ShipmentCreated) over 50 books produced at once, timed until every order's tracking row shows them
(reports + tracking projections); then ``projections rebuild storefront`` of the book topics.
Prints medians of the runs with min/max; writes bench/results/storefront-*.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from bookshelf_contracts import (
    Address,
    BookAdded,
    Customer,
    Envelope,
    InventoryLevelChanged,
    Message,
    Money,
    OrderConfirmed,
    OrderLineData,
    OrderPlaced,
    ShipmentCreated,
    key_for,
    topic_for,
)
from bookshelf_infra.kafka import temporary_broker
from bookshelf_infra.postgres import EmbeddedPostgres
from bookshelf_infra.testing import free_port
from bookshelf_messaging import KafkaSettings, ensure_topics
from bookshelf_storefront.bootstrap import build
from bookshelf_storefront.config import StorefrontSettings
from bookshelf_storefront.migrations import upgrade
from bookshelf_storefront.rebuild import rebuild
from confluent_kafka import Producer

RESULTS = Path(__file__).parent / "results"
APPLIED = "details_version > 0 AND stock_version > 0"
TRACKED = "status = 'CONFIRMED' AND shipment_status = 'CREATED'"
HOT_BOOKS = [uuid.UUID(int=n + 1) for n in range(50)]  # orders share these: sales rows are contended


WORDS = str.split(
    "night river garden shadow empire silent lost city dream winter fire stone glass ocean queen king star "
    "secret house road light dark war peace time iron song wolf rose north south storm island bridge "
    "mountain forest letter mirror crown blood salt silver golden hidden last first broken"
)
FIRST = str.split(
    "Anna John Maria Peter Olga Liam Emma Noah Mia Lucas Sofia Ivan Chen Amir Lea Ada Omar Ines"
)
LAST = str.split(
    "Smith Garcia Muller Rossi Kowalski Nguyen Tanaka Brown Silva Novak Ivanova Khan Dubois Olsen"
)
GENRES = str.split("FICTION NON_FICTION SCIENCE HISTORY BIOGRAPHY FANTASY MYSTERY")
COLUMNS = str.split(
    "book_id title author isbn genre price_amount price_currency available updated_at details_version "
    "price_version stock_version"
)


def seed_rows(n: int) -> list[tuple[Any, ...]]:
    """Book rows as the projection writes them: 2-5 word titles, ~75k authors, 7 genres, 1/3 out of stock."""
    rng, now, rows = random.Random(7), datetime.now(UTC), []
    for i in range(n):
        title = " ".join(rng.choice(WORDS).capitalize() for _ in range(rng.randint(2, 5))) + f" {i}"
        author = f"{rng.choice(FIRST)} {rng.choice(LAST)}{rng.randint(1, 300)}"
        price, genre = Decimal(rng.randint(300, 8000)) / 100, rng.choice(GENRES)
        available = rng.choice([0, 0, 0, 1, 2, 5, 10, 20, 50])
        updated = now - timedelta(seconds=rng.randint(0, 10**7))
        rows.append((uuid.uuid4(), title, author, None, genre, price, "USD", available, updated, 1, 1, 1))
    return rows


def query_mix(rng: random.Random, rows: list[tuple[Any, ...]]) -> tuple[str, str, dict[str, Any]]:
    """One query of the mix: (kind, path, params); filters drawn from the seeded data."""
    row, word, low, genre = rng.choice(rows), rng.choice(WORDS), rng.randint(3, 60), rng.choice(GENRES)
    sf = "/storefront"
    kinds: list[tuple[str, str, dict[str, Any]]] = [
        ("default", sf, {}),
        ("sort -price", sf, {"sort": "-price"}),
        ("genre+in_stock sort price", sf, {"genre": genre, "in_stock": "true", "sort": "price"}),
        ("author exact", sf, {"author": row[2].lower()}),
        ("author_contains", sf, {"author_contains": rng.choice(LAST).lower()}),
        ("q common word", sf, {"q": word}),
        ("q rare", sf, {"q": " ".join(row[1].split()[-2:])}),
        ("price range sort -available", sf, {"min_price": low, "max_price": low + 5, "sort": "-available"}),
        ("deep page sort updated_at", sf, {"sort": "updated_at", "offset": rng.randint(0, 5000)}),
        ("out of stock sort -updated_at", sf, {"in_stock": "false", "sort": "-updated_at"}),
        ("genre+q sort -price", sf, {"genre": genre, "q": word, "sort": "-price"}),
        ("one book", f"{sf}/{row[0]}", {}),
    ]
    return rng.choice(kinds)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def _timed(http: httpx.AsyncClient, path: str, params: dict[str, Any]) -> float:
    started = time.perf_counter()
    answer = await http.get(path, params=params)
    if answer.status_code != 200:
        raise RuntimeError(f"{path} {params}: {answer.status_code} {answer.text[:200]}")
    return (time.perf_counter() - started) * 1000


async def latency_run(
    url: str, bootstrap: str, rows: list[tuple[Any, ...]], queries: int, run: int
) -> dict[str, Any]:
    port, devnull = free_port(), asyncio.subprocess.DEVNULL
    env = {**os.environ, "STOREFRONT_DATABASE_URL": url, "KAFKA_BOOTSTRAP_SERVERS": bootstrap}
    command = (sys.executable, "-m", "bookshelf_storefront", "--role", "api", "--port", str(port))
    proc = await asyncio.create_subprocess_exec(*command, env=env, stdout=devnull, stderr=devnull)
    rng, times = random.Random(run), {}  # type: ignore[var-annotated]
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            await _until_up(http)
            for i in range(queries + 100):
                kind, path, params = query_mix(rng, rows)
                elapsed = await _timed(http, path, params)
                if i >= 100:  # the first 100 warm caches and connections
                    times.setdefault(kind, []).append(elapsed)
            # The floor: /healthz (no database) shows what HTTP and the machine cost by themselves.
            floor = [await _timed(http, "/healthz", {}) for _ in range(100)]
    finally:
        proc.terminate()
        await proc.wait()
    every = [t for ts in times.values() for t in ts]
    kinds = {k: {"n": len(v), "p50_ms": pct(v, 50), "p99_ms": pct(v, 99)} for k, v in sorted(times.items())}
    overall = {
        f"{name}p{p}_ms": pct(values, p)
        for name, values in (("", every), ("healthz_", floor))
        for p in (50, 99)
    }
    return {**overall, "max_ms": max(every), "kinds": kinds}


async def _until_up(http: httpx.AsyncClient) -> None:
    for _ in range(450):
        with contextlib.suppress(httpx.TransportError):
            if (await http.get("/healthz")).status_code == 200:
                return
        await asyncio.sleep(0.2)
    raise RuntimeError("the storefront API did not come up within 90 s")


def _events(n: int, book_id: uuid.UUID) -> list[Message]:
    price = Money(amount=Decimal("9.99"), currency="USD")
    added = BookAdded(book_id=book_id, title=f"Book {n}", author="Bench Author", price=price, version=1)
    return [added, InventoryLevelChanged(book_id=book_id, on_hand=5, reserved=0, available=5, version=2)]


def _order_events(n: int, order_id: uuid.UUID) -> list[Message]:
    usd = Money(amount=Decimal("9.99"), currency="USD")
    line = OrderLineData(book_id=HOT_BOOKS[n % len(HOT_BOOKS)], title=f"Book {n}", quantity=1, unit_price=usd)
    customer, address = (
        Customer(name="Bench", email="bench@example.com"),
        Address(street="1 Main", city="X", zip_code="1"),
    )
    placed = OrderPlaced(
        order_id=order_id, customer=customer, shipping_address=address, lines=[line], total=usd, version=1
    )
    shipment = ShipmentCreated(
        shipment_id=uuid.uuid4(), order_id=order_id, tracking_number="TRK-AB12CD34EF", version=1
    )
    return [placed, OrderConfirmed(order_id=order_id, version=2), shipment]


def _produce(bootstrap: str, books: list[uuid.UUID], events: Any = _events) -> None:
    config = KafkaSettings(bootstrap_servers=bootstrap).confluent_producer_config()
    producer = Producer({**config, "linger.ms": 5})
    for n, book_id in enumerate(books):
        for message in events(n, book_id):
            env = Envelope.wrap(message, producer="bench", correlation_id=str(book_id))
            key, value, headers = key_for(message).encode(), env.to_json(), env.kafka_headers()
            while True:
                try:
                    producer.produce(topic_for(message), value=value, key=key, headers=headers)
                    break
                except BufferError:
                    producer.poll(0.01)
    if producer.flush(120):
        raise RuntimeError("records left unsent")


async def _wait_applied(dsn: str, count: int, within: float, query: str = "") -> None:
    query = query or f"SELECT count(*) FROM storefront_view WHERE {APPLIED}"
    conn, deadline = await asyncpg.connect(dsn), time.monotonic() + within
    try:
        while (done := await conn.fetchval(query)) < count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {done} of {count} books applied within {within} s")
            await asyncio.sleep(0.05)
    finally:
        await conn.close()


async def _order_phase(dsn: str, bootstrap: str, orders: int) -> float:
    """Events/s of the order projections: ``orders`` x 3 events produced at once until all tracked."""
    if orders <= 0:
        return 0.0
    ids = [uuid.uuid4() for _ in range(orders)]
    started = time.perf_counter()
    await asyncio.to_thread(_produce, bootstrap, ids, _order_events)
    await _wait_applied(dsn, orders, 900, f"SELECT count(*) FROM order_tracking WHERE {TRACKED}")
    return 3 * orders / (time.perf_counter() - started)


async def projection_run(pg: EmbeddedPostgres, events: int, run: int, orders: int = 0) -> dict[str, float]:
    name = f"bench_projection_{run}_{uuid.uuid4().hex[:6]}"
    await pg.create_database_async(name)
    url, dsn = pg.sqlalchemy_url(name), pg.dsn(name)
    await asyncio.to_thread(upgrade, url)
    with temporary_broker() as broker:
        kafka = KafkaSettings(bootstrap_servers=broker.bootstrap_servers)
        await ensure_topics(kafka)
        components = build(StorefrontSettings(env="dev", database_url=url), kafka)
        tasks = [asyncio.create_task(r.run()) for r in components.consumers]
        try:
            # Warm-up: one book, so the consumer groups have joined before the clock starts.
            await asyncio.to_thread(_produce, broker.bootstrap_servers, [uuid.uuid4()])
            await _wait_applied(dsn, 1, 90)
            books = [uuid.uuid4() for _ in range(events // 2)]
            started = time.perf_counter()
            await asyncio.to_thread(_produce, broker.bootstrap_servers, books)
            await _wait_applied(dsn, len(books) + 1, 900)
            elapsed = time.perf_counter() - started
            order_rate = await _order_phase(dsn, broker.bootstrap_servers, orders)
            (report,) = await rebuild(url, kafka, "storefront")
        finally:
            for runner in components.consumers:
                runner.stop()
            await asyncio.gather(*tasks, return_exceptions=True)
            await components.engine.dispose()
    await pg.drop_database_async(name)
    read = report.build.read + report.tail.read
    rebuilt = {"rebuild_events_per_s": read / report.seconds, "rebuild_seconds": report.seconds}
    rates = {"events_per_s": 2 * len(books) / elapsed, "order_events_per_s": order_rate}
    return {**rates, "seconds": elapsed, **rebuilt}


async def _latency(args: argparse.Namespace, pg: EmbeddedPostgres) -> tuple[list[dict[str, Any]], float]:
    rows = seed_rows(args.books)
    await pg.create_database_async("bench_storefront")
    url = pg.sqlalchemy_url("bench_storefront")
    await asyncio.to_thread(upgrade, url)
    started, conn = time.perf_counter(), await asyncpg.connect(pg.dsn("bench_storefront"))
    await conn.copy_records_to_table("storefront_view_g1", records=rows, columns=COLUMNS)
    await conn.execute("VACUUM (ANALYZE) storefront_view_g1")
    await conn.close()
    seeded, runs = time.perf_counter() - started, []
    with temporary_broker() as broker:
        for run in range(args.runs):
            runs.append(await latency_run(url, broker.bootstrap_servers, rows, args.queries, run))
            print(f"  latency run {run + 1}: p50 {runs[-1]['p50_ms']:.1f}, p99 {runs[-1]['p99_ms']:.1f} ms")
    return runs, seeded


async def bench(args: argparse.Namespace, pg: EmbeddedPostgres) -> dict[str, Any]:
    latency, seeded = await _latency(args, pg)
    projection, metrics = [], ("p50_ms", "p99_ms", "healthz_p50_ms", "healthz_p99_ms")
    for run in range(args.runs):
        projection.append(await projection_run(pg, args.events, run, args.orders))
        rates = projection[-1]
        print(
            f"  projection run {run + 1}: {rates['events_per_s']:.0f} events/s,"
            f" orders {rates['order_events_per_s']:.0f} events/s",
            flush=True,
        )
    median = statistics.median
    kinds = {
        k: {m: median(r["kinds"][k][m] for r in latency) for m in metrics[:2]} for k in latency[0]["kinds"]
    }
    summaries = {m: [r[m] for r in latency] for m in metrics}
    summaries["projection_events_per_s"] = [r["events_per_s"] for r in projection]
    summaries["rebuild_events_per_s"] = [r["rebuild_events_per_s"] for r in projection]
    summaries["order_projection_events_per_s"] = [r["order_events_per_s"] for r in projection]
    return {
        "benchmark": "storefront",
        "command": " ".join(["uv run python bench/storefront_bench.py", *sys.argv[1:]]),
        "at": datetime.now(UTC).isoformat(),
        "machine": {"nproc": os.cpu_count(), "load_1m": os.getloadavg()[0]},
        **{"books": args.books, "queries_per_run": args.queries, "seed_s": seeded, "events": args.events},
        "orders": args.orders,
        "runs": {"latency": latency, "projection": projection},
        **{k: {"median": median(v), "min": min(v), "max": max(v)} for k, v in summaries.items()},
        "kinds_median": kinds,
    }


def _print(report: dict[str, Any], out: Path) -> None:
    def fmt(s: dict[str, float], unit: str) -> str:
        return f"{s['median']:.1f} {unit} (min {s['min']:.1f}, max {s['max']:.1f})"

    runs = len(report["runs"]["latency"])
    print(f"GET /storefront at {report['books']:,} books, {report['queries_per_run']} queries x {runs} runs")
    for name, label in (("", "queries"), ("healthz_", "/healthz (floor: HTTP and machine, no database)")):
        print(
            f"  {label}: p50 {fmt(report[name + 'p50_ms'], 'ms')}, p99 {fmt(report[name + 'p99_ms'], 'ms')}"
        )
    for kind, v in report["kinds_median"].items():
        print(f"    {kind:32s} p50 {v['p50_ms']:6.1f} ms  p99 {v['p99_ms']:6.1f} ms")
    print(f"projection (catalog + inventory events): {fmt(report['projection_events_per_s'], 'events/s')}")
    print(
        f"order projections (orders + shipments): {fmt(report['order_projection_events_per_s'], 'events/s')}"
    )
    print(f"rebuild storefront from the topics:      {fmt(report['rebuild_events_per_s'], 'events/s')}")
    print(f"written to {out}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--books", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=600)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument(
        "--orders", type=int, default=3_000, help="orders for the order projections (0: skip)"
    )
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="bench-storefront-") as tmp,
        EmbeddedPostgres(Path(tmp) / "pg", port=free_port()) as pg,
    ):
        report = asyncio.run(bench(args, pg))
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"storefront-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.write_text(json.dumps(report, indent=2, default=str))
    _print(report, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
