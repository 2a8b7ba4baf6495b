"""One system for the whole fault suite: the scenarios run in file order on it (test_s1 ... test_s6),
each on top of what the previous ones left, which every check covers too (the broker outage runs
last: it kills the broker under load)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests.faults.cluster import Cluster
from tests.faults.load import Ledger, Shop

BOOKS = 24


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    system = Cluster(tmp_path_factory.mktemp("bookshelf-faults"))
    try:
        system.start()
        yield system
    finally:
        system.stop()


@pytest.fixture(scope="session")
async def shop(cluster: Cluster) -> AsyncIterator[Shop]:
    """The HTTP client with the session's ledger and a catalog of books, known to every service."""
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=16)
    async with httpx.AsyncClient(timeout=15.0, limits=limits) as client:
        shop = Shop(cluster, client, Ledger())
        for index in range(BOOKS):
            await shop.add_book(f"Fault Book {index:02d}", price=f"{5 + index}.50")
        for book_id in shop.ledger.books:  # stock records exist (inventory consumed BookAdded)
            await shop.call("GET", "inventory", f"/inventory/{book_id}", ok=(200,), within=120)
        yield shop
