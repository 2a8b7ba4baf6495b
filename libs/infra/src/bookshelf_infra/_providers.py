"""Where the test infrastructure comes from: environment, testcontainers, or local servers.

Order: an environment variable wins; otherwise testcontainers when a Docker engine answers a ping
within 2 s; otherwise local servers (Apache Kafka on a JDK, PostgreSQL from its wheel) on free ports
in a temporary directory. ``BOOKSHELF_TEST_INFRA=local|testcontainers`` skips the Docker probe.
Heavy imports happen inside the providers so that merely loading the pytest plugin stays cheap.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from .pgadmin import PostgresAdmin

Mode = Literal["env", "testcontainers", "local"]

KAFKA_ENV = "KAFKA_BOOTSTRAP_SERVERS"
POSTGRES_ENV = "TEST_POSTGRES_URL"
FORCE_ENV = "BOOKSHELF_TEST_INFRA"
KAFKA_IMAGE = "confluentinc/cp-kafka:7.6.0"
POSTGRES_IMAGE = "postgres:16-alpine"
# Throwaway servers: durability off makes commits and CREATE DATABASE much cheaper.
TEST_PG_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
_START_ATTEMPTS = 3  # a free port can be taken by someone else between picking and binding it


@functools.cache
def docker_answers(timeout: float = 2.0) -> bool:
    """True when a Docker engine answers a ping within ``timeout`` seconds."""
    try:
        import docker

        client = docker.from_env(timeout=int(max(1, timeout)))
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


def _fallback_mode() -> Mode:
    forced = os.environ.get(FORCE_ENV, "").strip().lower()
    if forced in ("local", "testcontainers"):
        return "local" if forced == "local" else "testcontainers"
    if forced:
        raise ValueError(f"{FORCE_ENV}={forced!r}: expected 'local' or 'testcontainers'")
    return "testcontainers" if docker_answers() else "local"


def kafka_mode() -> Mode:
    """How ``kafka_bootstrap`` will be provided."""
    return "env" if os.environ.get(KAFKA_ENV) else _fallback_mode()


def postgres_mode() -> Mode:
    """How ``postgres_server`` will be provided."""
    return "env" if os.environ.get(POSTGRES_ENV) else _fallback_mode()


def describe() -> str:
    """One line naming the chosen mode of each resource (never a password)."""
    kafka, postgres = kafka_mode(), postgres_mode()
    kafka_text: str = f"env {KAFKA_ENV}" if kafka == "env" else kafka
    postgres_text: str = postgres
    if postgres == "env":
        parts = urlsplit(os.environ[POSTGRES_ENV])
        postgres_text = f"env {POSTGRES_ENV} ({parts.hostname}:{parts.port})"
    return f"kafka={kafka_text}, postgres={postgres_text} (local servers and containers start on first use)"


@contextlib.contextmanager
def _workdir(prefix: str) -> Iterator[Path]:
    # Not pytest's tmp_path: pytest resets its base directory to 0700 on every session start, which
    # would lock out the unprivileged user PostgreSQL runs as (under root) in a concurrent session.
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def _watched(workdir: Path, datadir: Path | None = None) -> Iterator[None]:
    """Cleans up ``workdir`` (and stops the server of ``datadir``) even if pytest gets killed."""
    from . import _watchdog

    watchdog = _watchdog.spawn(remove=workdir, postgres_datadir=datadir)
    try:
        yield
    finally:
        watchdog.terminate()
        watchdog.wait(10)


@contextlib.contextmanager
def provide_kafka(mode: Mode) -> Iterator[str]:
    """Yield a bootstrap servers string for the duration of the block."""
    if mode == "env":
        yield os.environ[KAFKA_ENV]
    elif mode == "testcontainers":
        from testcontainers.community.kafka import KafkaContainer

        with KafkaContainer(KAFKA_IMAGE).with_kraft() as container:
            yield container.get_bootstrap_server()
    else:
        from .kafka import BrokerStartError, LocalKafka, PortInUseError
        from .testing import free_port

        with _workdir("bookshelf-test-kafka-") as workdir, _watched(workdir):
            for attempt in range(_START_ATTEMPTS):
                broker = LocalKafka(
                    workdir, port=free_port(), controller_port=free_port(), die_with_parent=True
                )
                try:
                    broker.start()
                    break
                except (PortInUseError, BrokerStartError):
                    if attempt == _START_ATTEMPTS - 1:
                        raise
            try:
                yield broker.bootstrap_servers
            finally:
                broker.stop()


@contextlib.contextmanager
def provide_postgres(mode: Mode) -> Iterator[PostgresAdmin]:
    """Yield a server handle (dsn, sqlalchemy_url, create/drop database) for the duration of the block."""
    from .pgadmin import PostgresAdmin

    if mode == "env":
        yield PostgresAdmin(os.environ[POSTGRES_ENV])
    elif mode == "testcontainers":
        from testcontainers.community.postgres import PostgresContainer

        options = " ".join(f"-c {k}={v}" for k, v in {**TEST_PG_SETTINGS, "max_connections": "300"}.items())
        container = PostgresContainer(
            POSTGRES_IMAGE, username="postgres", password="postgres", dbname="postgres", driver=None
        ).with_command(f"postgres {options}")
        with container:
            yield PostgresAdmin(container.get_connection_url())
    else:
        from .postgres import EmbeddedPostgres, PortInUseError, PostgresCommandError
        from .testing import free_port

        with _workdir("bookshelf-test-pg-") as workdir, _watched(workdir, workdir / "data"):
            for attempt in range(_START_ATTEMPTS):
                server = EmbeddedPostgres(workdir / "data", port=free_port(), settings=TEST_PG_SETTINGS)
                try:
                    server.start()
                    break
                except (PortInUseError, PostgresCommandError) as exc:
                    taken = isinstance(exc, PortInUseError) or "Address already in use" in str(exc)
                    if not taken or attempt == _START_ATTEMPTS - 1:
                        raise
            try:
                yield server
            finally:
                server.stop()
