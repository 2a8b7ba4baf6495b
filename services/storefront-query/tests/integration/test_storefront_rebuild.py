"""``projections rebuild``: a new generation built from the topics while the old one serves, then switched.

Readers run throughout and must never see an error or a partial answer; the contents after the
rebuild equal those before (every row these tests produced, in every read model), events produced
during the rebuild are not lost, and a failed rebuild leaves the read model as it was.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa
from bookshelf_messaging import KafkaSettings
from bookshelf_storefront.adapters.generations import RebuildBusy, lock_model
from bookshelf_storefront.domain.read_models import READ_MODELS, STOREFRONT
from bookshelf_storefront.rebuild import RebuildFailed, rebuild

from .conftest import StorefrontIT, book_added, ok, stock, token

TABLES = {
    "storefront_view": "book_id",
    "book_catalog": "book_id",
    "book_report": "book_id",
    "report_orders": "order_id",
    "order_tracking": "order_id",
}


async def contents(it: StorefrontIT) -> dict[str, list[dict[str, Any]]]:
    """Every row of every read-model view whose key this test session produced.

    Without ``visible_xid``: it names the transaction that wrote the row (bookkeeping for totals), so a
    rebuild necessarily changes it.
    """
    keys = list(it.keys)
    async with it.components.engine.connect() as conn:
        return {
            table: [
                {k: v for k, v in row._mapping.items() if k != "visible_xid"}
                for row in await conn.execute(
                    sa.text(f"SELECT * FROM {table} WHERE {key} = ANY(:keys) ORDER BY {key}"), {"keys": keys}
                )
            ]
            for table, key in TABLES.items()
        }


async def generations(it: StorefrontIT) -> dict[str, int]:
    async with it.components.engine.connect() as conn:
        rows = await conn.execute(sa.text("SELECT name, generation FROM read_model_generations"))
        return {name: generation for name, generation in rows}


async def seeded_shelf(it: StorefrontIT, count: int = 5) -> tuple[str, list[UUID]]:
    tok = token()
    ids = []
    for n in range(count):
        book = book_added(title=f"Shelf {n} {tok}", author=f"Keeper {tok}")
        await it.send(book)
        await it.send(stock(book.book_id, available=n + 1, version=1))
        ids.append(book.book_id)
    await it.wait_for(
        "/storefront",
        ok(
            lambda b: (
                b["total"] == count and sum(e["available"] for e in b["entries"]) == count * (count + 1) // 2
            )
        ),
        q=tok,
    )
    return tok, ids


class Readers:
    """Concurrent API readers that compare every answer with the one they saw first."""

    def __init__(self, it: StorefrontIT, paths: list[tuple[str, dict[str, Any]]]) -> None:
        self.it = it
        self.paths = paths
        self.expected: dict[int, Any] = {}
        self.reads = 0
        self.problems: list[str] = []
        self.stop = asyncio.Event()

    async def _loop(self, index: int) -> None:
        path, params = self.paths[index]
        while not self.stop.is_set():
            answer = await self.it.http.get(path, params=params)
            self.reads += 1
            if answer.status_code != 200:
                self.problems.append(f"{path}: {answer.status_code} {answer.text[:200]}")
            elif answer.json() != self.expected.setdefault(index, answer.json()):
                self.problems.append(f"{path}: answer changed: {answer.text[:300]}")
            await asyncio.sleep(0.005)

    async def run_while(self, work: Any) -> Any:
        tasks = [asyncio.create_task(self._loop(i)) for i in range(len(self.paths))]
        try:
            return await work
        finally:
            self.stop.set()
            await asyncio.gather(*tasks)


async def test_rebuild_all_during_reads_keeps_answering_and_ends_identical(
    storefront_it: StorefrontIT,
) -> None:
    tok, ids = await seeded_shelf(storefront_it)
    before, generation = await contents(storefront_it), await generations(storefront_it)
    readers = Readers(
        storefront_it,
        [
            ("/storefront", {"q": tok}),
            ("/storefront", {"author": f"keeper {tok}", "sort": "-available", "limit": 2}),
            (f"/storefront/{ids[0]}", {}),
            (f"/catalog/{ids[1]}", {}),
        ],
    )
    reports = await readers.run_while(rebuild(storefront_it.database_url, storefront_it.kafka, "all"))
    assert readers.problems == []
    assert readers.reads > 20
    assert [r.model for r in reports] == list(READ_MODELS)
    assert all(r.build.failed == 0 and r.tail.failed == 0 for r in reports), reports
    assert reports[0].build.applied >= 10  # at least this test's books and stock levels
    assert await generations(storefront_it) == {name: n + 1 for name, n in generation.items()}
    assert await contents(storefront_it) == before
    async with storefront_it.components.engine.connect() as conn:
        old = await conn.scalar(sa.text("SELECT count(*) FROM pg_tables WHERE tablename LIKE '%\\_g1'"))
        table = f"storefront_view_g{generation['storefront'] + 1}"
        statistics = await conn.scalar(
            sa.text("SELECT count(*) FROM pg_statistic_ext WHERE stxrelid = CAST(:t AS regclass)"),
            {"t": table},
        )
    assert old == 0 or min(generation.values()) > 1
    assert statistics == 2  # the expression statistics travel with the generation (LIKE ... INCLUDING ALL)


async def test_events_during_the_rebuild_are_not_lost(storefront_it: StorefrontIT) -> None:
    tok, _ = await seeded_shelf(storefront_it, count=1)
    stop = asyncio.Event()
    sent: list[UUID] = []

    async def produce() -> None:
        # Bounded so the whole set fits one page (limit=100) however long the rebuild takes.
        while not stop.is_set() and len(sent) < 80:
            book = book_added(title=f"During {len(sent)} {tok}", author=f"Late {tok}")
            await storefront_it.send(book)
            await storefront_it.send(stock(book.book_id, available=2, version=1))
            sent.append(book.book_id)
            await asyncio.sleep(0.01)

    producer = asyncio.create_task(produce())
    try:
        (report,) = await rebuild(storefront_it.database_url, storefront_it.kafka, STOREFRONT.name)
    finally:
        stop.set()
        await producer
    assert len(sent) > 5
    answer = await storefront_it.wait_for(
        "/storefront",
        ok(lambda b: b["total"] == len(sent) and all(e["available"] == 2 for e in b["entries"])),
        author=f"late {tok}",
        limit=100,
    )
    assert {e["book_id"] for e in answer.json()["entries"]} == {str(b) for b in sent}
    assert report.tail.read >= 0


async def test_a_failed_rebuild_changes_nothing(storefront_it: StorefrontIT) -> None:
    before = await generations(storefront_it)
    nowhere = KafkaSettings(bootstrap_servers="127.0.0.1:1")
    with pytest.raises(RebuildFailed, match="keeps serving, nothing changed"):
        await rebuild(storefront_it.database_url, nowhere, "catalog")
    assert await generations(storefront_it) == before
    async with storefront_it.components.engine.connect() as conn:
        tables = set(
            await conn.scalars(
                sa.text("SELECT tablename FROM pg_tables WHERE tablename LIKE 'book_catalog_g%'")
            )
        )
    assert tables == {f"book_catalog_g{before['catalog']}"}


async def test_a_second_rebuild_of_the_same_model_is_refused(storefront_it: StorefrontIT) -> None:
    async with storefront_it.components.engine.connect() as conn:
        await lock_model(conn, STOREFRONT)
        with pytest.raises(RebuildBusy, match="another rebuild"):
            await rebuild(storefront_it.database_url, storefront_it.kafka, "storefront")
        await conn.execute(sa.text("SELECT pg_advisory_unlock_all()"))
        await conn.commit()


@pytest.mark.timeout(900)  # two CLI processes; slow to start on a loaded 2-core machine
async def test_the_cli_rebuilds_and_summarises(storefront_it: StorefrontIT) -> None:
    before = await generations(storefront_it)
    env = {
        **os.environ,
        "STOREFRONT_DATABASE_URL": storefront_it.database_url,
        "KAFKA_BOOTSTRAP_SERVERS": storefront_it.kafka.bootstrap_servers,
        "COLUMNS": "160",
    }
    command = [sys.executable, "-m", "bookshelf_cli.main", "projections", "rebuild", "tracking"]
    process = await asyncio.create_subprocess_exec(
        *command, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=600)
    text = output.decode()
    assert process.returncode == 0, text
    generation = before["tracking"]
    assert "rebuilt and switched" in text
    assert f"{generation} -> {generation + 1}" in text
    assert (await generations(storefront_it))["tracking"] == before["tracking"] + 1

    bad = [sys.executable, "-m", "bookshelf_cli.main", "projections", "rebuild", "nonsense"]
    process = await asyncio.create_subprocess_exec(
        *bad, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=300)
    assert process.returncode == 2, output.decode()
    assert "storefront, catalog, reports, tracking, all" in output.decode()


async def test_after_db_truncate_a_rebuild_restores_everything(storefront_it: StorefrontIT) -> None:
    tok, _ = await seeded_shelf(storefront_it, count=2)
    before = await contents(storefront_it)
    async with storefront_it.components.engine.begin() as conn:  # what `bookshelf db truncate` does
        tables = await conn.scalars(
            sa.text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
            )
        )
        await conn.execute(sa.text("TRUNCATE " + ", ".join(tables) + " RESTART IDENTITY CASCADE"))
    empty = (await storefront_it.http.get("/storefront", params={"q": tok})).json()
    assert (empty["total"], empty["entries"]) == (0, [])
    assert (await storefront_it.http.get("/storefront")).json()["total"] == 0  # the remembered total too
    await rebuild(storefront_it.database_url, storefront_it.kafka, "all")
    assert await contents(storefront_it) == before
    assert set(await generations(storefront_it)) == set(READ_MODELS)
    await storefront_it.wait_for("/storefront", ok(lambda b: b["total"] == 2), q=tok)
