"""deploy/postgres/create-databases.sh against a real PostgreSQL (the test server of bookshelf_infra):
one database and owner role per service, isolation between services, the read-only observer role,
idempotence, and a clear error for a missing password."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import asyncpg
import pytest
from bookshelf_infra.testing import unique_name

from tests.deploy.deploy_support import ROOT

pytestmark = pytest.mark.integration

SCRIPT = ROOT / "deploy" / "postgres" / "create-databases.sh"


def client_bin() -> Path | None:
    """A directory with psql and pg_isready: PATH, else the binaries inside the pgserver wheel."""
    if found := shutil.which("psql"):
        return Path(found).parent
    try:
        import pgserver
    except ImportError:
        return None
    candidate = Path(pgserver.__file__).parent / "pginstall" / "bin"
    return candidate if (candidate / "psql").exists() else None


@pytest.fixture(scope="module")
def admin_dsn(postgres_server) -> str:
    if client_bin() is None:
        pytest.skip("psql is not available")
    return postgres_server.dsn()


def script_env(admin_dsn: str, databases: list[str], passwords: dict[str, str]) -> dict[str, str]:
    parts = urlsplit(admin_dsn)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(
        PATH=f"{client_bin()}{os.pathsep}{env.get('PATH', '')}",
        PGHOST=parts.hostname or "127.0.0.1",
        PGPORT=str(parts.port or 5432),
        PGUSER=unquote(parts.username or "postgres"),
        PGPASSWORD=unquote(parts.password or ""),
        BOOKSHELF_DATABASES=" ".join(databases),
        BOOKSHELF_READER_DB_PASSWORD="reader-pw",
    )
    env.update({f"{db.upper()}_DB_PASSWORD": password for db, password in passwords.items()})
    return env


def run_script(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["/bin/sh", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def dsn_for(admin_dsn: str, database: str) -> str:
    parts = urlsplit(admin_dsn)
    return parts._replace(path=f"/{database}").geturl()


@pytest.fixture
def databases(admin_dsn: str) -> Iterator[list[str]]:
    names = [unique_name("deploy_catalog"), unique_name("deploy_ordering")]
    yield names
    import asyncio

    async def drop() -> None:
        conn = await asyncpg.connect(dsn_for(admin_dsn, "postgres"))
        try:
            for name in names:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                await conn.execute(f'DROP ROLE IF EXISTS "{name}"')
        finally:
            await conn.close()

    asyncio.run(drop())


async def test_one_owned_isolated_database_per_service_and_a_read_only_observer(admin_dsn, databases) -> None:
    catalog, ordering = databases
    env = script_env(admin_dsn, databases, {catalog: "catalog-pw", ordering: "ordering-pw"})
    for _ in range(2):  # idempotent: the compose job runs on every `up`
        result = run_script(env)
        assert result.returncode == 0, result.stdout + result.stderr
    assert f"create-databases: {catalog} ready" in result.stdout

    admin = await asyncpg.connect(dsn_for(admin_dsn, "postgres"))
    try:
        owners = dict(
            await admin.fetch(
                "SELECT datname, pg_get_userbyid(datdba) FROM pg_database WHERE datname = ANY($1)", databases
            )
        )
        assert owners == {catalog: catalog, ordering: ordering}
        can_connect = "SELECT has_database_privilege($1, $2, 'CONNECT')"
        assert await admin.fetchval(can_connect, ordering, catalog) is False  # services are isolated
        assert await admin.fetchval(can_connect, catalog, catalog) is True
        assert await admin.fetchval(can_connect, "bookshelf_reader", catalog) is True
    finally:
        await admin.close()

    # A table the owner creates later (a migration) is readable, not writable, by the observer.
    conn = await asyncpg.connect(dsn_for(admin_dsn, catalog))
    try:
        await conn.execute(f'SET ROLE "{catalog}"')
        await conn.execute("CREATE TABLE outbox (id bigint PRIMARY KEY)")
        await conn.execute("RESET ROLE")
        privileges = await conn.fetchrow(
            "SELECT has_table_privilege('bookshelf_reader', 'outbox', 'SELECT') AS read,"
            " has_table_privilege('bookshelf_reader', 'outbox', 'INSERT') AS write"
        )
        assert (privileges["read"], privileges["write"]) == (True, False)
        await conn.execute("DROP OWNED BY bookshelf_reader")
    finally:
        await conn.close()
    conn = await asyncpg.connect(dsn_for(admin_dsn, ordering))
    try:
        await conn.execute("DROP OWNED BY bookshelf_reader")
    finally:
        await conn.close()


def test_a_missing_password_stops_with_its_name(admin_dsn, databases) -> None:
    catalog, ordering = databases
    result = run_script(script_env(admin_dsn, databases, {catalog: "catalog-pw"}))
    assert result.returncode == 1
    assert f"{ordering.upper()}_DB_PASSWORD is not set" in result.stderr
