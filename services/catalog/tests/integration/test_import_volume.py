"""POST /books/import at volume: 40,000 and 50,000 rows on the bulk lane.

These tests publish ~90,000 records to ``catalog.books.bulk``, so they run against a broker of their
own (``own_kafka_bootstrap``): on the shared broker every later test's consumer group (ordering's
replica, the storefront projections, their rebuilds) would first have to read through them.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from bookshelf_infra.pgadmin import PostgresAdmin
from bookshelf_infra.testing import eventually

from .conftest import STAFF, Catalog, isbn13, wired_catalog

CSV = {"Content-Type": "text/csv"}


@pytest.fixture(scope="module")
async def catalog(postgres_server: PostgresAdmin, own_kafka_bootstrap: str) -> AsyncIterator[Catalog]:
    async with wired_catalog(postgres_server, own_kafka_bootstrap) as wired:
        yield wired


async def test_forty_thousand_rows_beyond_the_default_body_limit(catalog: Catalog) -> None:
    # 1-20 MiB is fine on this path (the default limit elsewhere is 1 MiB).
    rows = "".join(f"Bulk {i},Writer,,1.00,USD\n" for i in range(40_000))
    medium = ("title,author,isbn,price,currency\n" + rows).encode()
    assert len(medium) > 1024 * 1024
    response = await catalog.http.post("/books/import", content=medium, headers=STAFF | CSV)
    assert response.status_code == 202
    assert response.json()["accepted"] == 40_000


async def test_fifty_thousand_rows_are_accepted_and_relayed(catalog: Catalog) -> None:
    rows = "".join(f"Book {i},Author {i % 97},{isbn13()},{i % 50 + 1}.99,USD\n" for i in range(50_000))
    body = ("title,author,isbn,price,currency\n" + rows).encode()
    started = time.perf_counter()
    response = await catalog.http.post("/books/import", content=body, headers=STAFF | CSV)
    elapsed = time.perf_counter() - started
    assert response.status_code == 202, response.text
    result = response.json()
    assert result["accepted"] + len(result["rejected"]) == 50_000
    assert all(
        e["field"] == "isbn" for r in result["rejected"] for e in r["errors"]
    )  # random ISBN clashes only
    async with catalog.engine.connect() as conn:
        queued = await conn.scalar(
            sa.text(
                "SELECT count(*) FROM outbox WHERE topic = 'catalog.books.bulk' AND created_at >= now() - interval '5 minutes'"
            )
        )
    assert queued >= result["accepted"]

    async def relayed() -> bool:
        async with catalog.engine.connect() as conn:
            backlog = await conn.scalar(sa.text("SELECT count(*) FROM outbox WHERE published_at IS NULL"))
        return backlog == 0

    # Leave no backlog behind for later tests: the relay publishes in id order, lanes or not.
    await eventually(relayed, timeout=240, message="the relay did not publish the 50,000 BookAdded events")
    print(
        f"\n50,000-row import answered in {elapsed:.2f} s; relayed after {time.perf_counter() - started:.1f} s"
    )
