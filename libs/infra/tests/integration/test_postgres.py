"""The embedded PostgreSQL: lifecycle on TCP, idempotent database creation, data kept across restarts."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from bookshelf_infra.postgres import EmbeddedPostgres, PortInUseError
from bookshelf_infra.testing import free_port, unique_name

FAST = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


@pytest.fixture
def datadir() -> Iterator[Path]:
    # Not tmp_path: under root the server runs as the "pgserver" user, which must traverse the parents.
    workdir = Path(tempfile.mkdtemp(prefix="bookshelf-test-pg-"))
    yield workdir / "data"
    shutil.rmtree(workdir, ignore_errors=True)


async def test_starts_on_tcp_keeps_data_across_restarts_and_stops(datadir: Path) -> None:
    server = EmbeddedPostgres(datadir, port=free_port(), settings=FAST)
    started = time.monotonic()
    server.start()
    try:
        first_start = time.monotonic() - started
        assert server.is_running()
        assert server.dsn("shop") == f"postgresql://postgres@127.0.0.1:{server.port}/shop"
        assert server.sqlalchemy_url("shop") == f"postgresql+asyncpg://postgres@127.0.0.1:{server.port}/shop"
        await server.create_database_async("shop")
        await server.create_database_async("shop")  # idempotent
        conn = await asyncpg.connect(server.dsn("shop"))
        await conn.execute(
            "CREATE TABLE books (id int PRIMARY KEY, title text); INSERT INTO books VALUES (1, 'Dune')"
        )
        assert await conn.fetchval("SHOW fsync") == "off"
        assert await conn.fetchval("SHOW max_connections") == "300"
        await conn.close()

        server.stop()
        assert not server.is_running()
        started = time.monotonic()
        server.start()
        restart = time.monotonic() - started
        conn = await asyncpg.connect(server.dsn("shop"))
        assert await conn.fetchval("SELECT title FROM books WHERE id = 1") == "Dune"
        await conn.close()
    finally:
        server.stop()
    print(f"embedded PostgreSQL: first start (initdb) {first_start:.2f} s, restart {restart:.2f} s")
    assert first_start < 15
    assert restart < 10


def test_create_and_drop_database_via_the_sync_api(datadir: Path) -> None:
    with EmbeddedPostgres(datadir, port=free_port(), settings=FAST) as server:
        name = unique_name("infra_test")
        server.create_database(name)
        server.create_database(name)
        assert server.database_exists(name)
        server.drop_database(name)
        server.drop_database(name)  # already gone: fine
        assert not server.database_exists(name)
        with pytest.raises(ValueError, match="1 to 63 bytes"):
            server.create_database("x" * 64)


def test_start_adopts_its_running_server_and_refuses_a_taken_port(datadir: Path) -> None:
    with EmbeddedPostgres(datadir, port=free_port(), settings=FAST) as server:
        EmbeddedPostgres(datadir, port=server.port).start()  # same datadir and port: adopted, no error
        other = datadir.parent / "other"
        with pytest.raises(PortInUseError, match=f"port {server.port} is in use"):
            EmbeddedPostgres(other, port=server.port).start()


def test_starts_again_after_its_postmaster_was_sigkilled(datadir: Path) -> None:
    """A killed server leaves its lock files; under an init that does not reap orphans its postmaster
    even stays a zombie, which PostgreSQL takes for a live server. The next start must still work."""
    import os
    import signal

    import psutil

    server = EmbeddedPostgres(datadir, port=free_port(), settings=FAST)
    server.start()
    server.create_database("kept")
    postmaster = psutil.Process(int((datadir / "postmaster.pid").read_text().split()[0]))
    os.kill(postmaster.pid, signal.SIGKILL)

    def dead() -> bool:
        try:
            return postmaster.status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True

    deadline = time.monotonic() + 10
    while not dead():  # a subprocess we poll, with a deadline
        assert time.monotonic() < deadline, "the postmaster survived SIGKILL"
        time.sleep(0.05)
    try:
        server.start()
        assert server.is_running()
        assert server.database_exists("kept")
    finally:
        server.stop()
