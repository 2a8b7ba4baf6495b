"""The system under fault injection: local Apache Kafka and PostgreSQL, every service role a process.

Unlike `bookshelf run` (one supervised process per service), the harness starts each role of the
services it injects faults into as a process of its own (`python -m bookshelf_<pkg> --role ...`), so
a relay, a consumer process or the saga worker can be SIGKILLed and restarted alone, and a second
`--role relay` process stands by for the first. It also owns the broker and PostgreSQL, so it can stop
and start them. The broker keeps its data under ``home/kafka`` across restarts and kills, as a real
cluster does: nothing is re-created after a restart.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import asyncpg
from bookshelf_cli.services import SERVICES
from bookshelf_infra import _watchdog
from bookshelf_infra.kafka import LocalKafka
from bookshelf_infra.postgres import EmbeddedPostgres
from bookshelf_infra.testing import free_port
from bookshelf_messaging.admin import TopicPlan, ensure_topics_sync
from bookshelf_messaging.settings import KafkaSettings
from confluent_kafka.admin import AdminClient

from tests.faults.processes import API_PROCESS, LAYOUT, Proc, spec_of
from tests.processes import run_cli

# PostgreSQL notices a vanished client during a statement (e.g. a relay SIGKILLed while its
# "mark published" UPDATE waits for a row lock) within this interval, and rolls the statement back.
CLIENT_CHECK = "client_connection_check_interval = '250ms'"


class Cluster:
    """Starts, breaks and repairs the whole system (see the module docstring)."""

    def __init__(self, home: Path, env: dict[str, str] | None = None) -> None:
        self.home = home
        self.logs = home / "logs"
        self.kafka_port, self.pg_port, self.nobody_port = free_port(), free_port(), free_port()
        self.kafka = LocalKafka(
            home / "kafka", self.kafka_port, controller_port=free_port(), die_with_parent=True
        )
        # Not under pytest's basetemp: any pytest run of root re-closes /tmp/pytest-of-root to 0700,
        # after which PostgreSQL's own account could no longer reach its data directory.
        self.pg_home = Path(tempfile.mkdtemp(prefix="bookshelf-faults-pg-"))
        self.pg = EmbeddedPostgres(self.pg_home / "data", port=self.pg_port, settings={"fsync": "off"})
        self.kafka_settings = KafkaSettings(bootstrap_servers=self.kafka.bootstrap_servers)
        self.env = env or {}
        self.procs = {
            name: Proc(name, service, role, free_port(), self.logs / f"{name}.log")
            for name, (service, role) in LAYOUT.items()
        }
        self.watchdog: subprocess.Popen[bytes] | None = None

    # -- addresses -------------------------------------------------------------------------------

    def url(self, service: str) -> str:
        """Base URL of a service's API process."""
        return self.procs[API_PROCESS[service]].url

    def database_url(self, service: str) -> str:
        database = spec_of(service).database
        assert database is not None
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.pg_port}/{database}"

    def dsn(self, service: str) -> str:
        return self.database_url(service).replace("postgresql+asyncpg://", "postgresql://", 1)

    def base_env(self) -> dict[str, str]:
        """The environment of every service process and of the `bookshelf` CLI."""
        env = {
            k: v
            for k, v in os.environ.items()
            if k != "KAFKA_BOOTSTRAP_SERVERS" and not k.endswith(("_DATABASE_URL", "_PORT"))
        }
        env |= {
            "BOOKSHELF_ENV": "dev",
            "BOOKSHELF_HOME": str(self.home),
            "BOOKSHELF_KAFKA_PORT": str(self.kafka_port),
            "BOOKSHELF_PG_PORT": str(self.pg_port),
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka.bootstrap_servers,
        }
        for spec in SERVICES:  # services not started here (observatory) get a port nobody listens on
            process = self.procs.get(API_PROCESS.get(spec.name, ""))
            env[f"{spec.env_prefix}_PORT"] = str(process.port if process else self.nobody_port)
            if spec.database and process:
                env[f"{spec.env_prefix}_DATABASE_URL"] = self.database_url(spec.name)
        return env | self.env

    # -- life cycle ------------------------------------------------------------------------------

    def start(self) -> None:
        """Infrastructure, topics, databases and migrations, then every process; waits until ready."""
        self.logs.mkdir(parents=True, exist_ok=True)
        self.pg.start()
        self.watchdog = _watchdog.spawn(
            remove=self.pg_home, postgres_datadir=self.pg.datadir
        )  # stops PostgreSQL if we die
        self.kafka.start()  # from this (long-lived) thread: the broker dies with it
        with ThreadPoolExecutor(1) as pool:  # Alembic and asyncpg run event loops of their own
            pool.submit(self._prepare).result()
        for name in self.procs:
            self.start_proc(name, wait=False)
        for proc in self.procs.values():
            proc.wait_ready()

    def _prepare(self) -> None:
        ensure_topics_sync(self.kafka_settings)
        for service in API_PROCESS:
            spec = spec_of(service)
            if spec.database:
                self.pg.create_database(spec.database)
                spec.migrate(self.database_url(service))
                asyncio.run(self._execute(f"ALTER DATABASE {spec.database} SET {CLIENT_CHECK}"))

    def stop(self) -> None:
        """Every process (SIGTERM, then SIGKILL), then the broker and PostgreSQL."""
        for proc in self.procs.values():
            if proc.running():
                assert proc.popen is not None
                proc.popen.terminate()
        for proc in self.procs.values():
            proc.terminate(timeout=20)
        self.kafka.stop()
        try:
            self.pg.stop()
        finally:
            shutil.rmtree(self.pg_home, ignore_errors=True)
            if self.watchdog is not None:
                self.watchdog.terminate()

    def start_proc(self, name: str, *, wait: bool = True, env: dict[str, str] | None = None) -> Proc:
        """Start a process (again); ``env`` replaces its extra environment for this and later starts."""
        proc = self.procs[name]
        if env is not None:
            proc.extra_env = env
        proc.launch(self.base_env())
        if wait:
            proc.wait_ready()
        return proc

    def kill(self, name: str) -> int:
        """SIGKILL a process; returns its pid."""
        return self.procs[name].kill()

    def terminate(self, name: str) -> None:
        """SIGTERM a process and wait for its graceful exit."""
        self.procs[name].terminate()

    # -- infrastructure faults -------------------------------------------------------------------

    def stop_postgres(self) -> None:
        self.pg.stop()

    def start_postgres(self) -> None:
        self.pg.start()

    def stop_broker(self) -> None:
        """A controlled shutdown of the broker (SIGTERM); its data stays."""
        self.kafka.stop()

    def kill_broker(self) -> None:
        """SIGKILL the broker, as a crash would; the next start recovers its log."""
        self.kafka.kill()

    def start_broker(self) -> None:
        """Start the broker again on the same port and data."""
        self.kafka.start()

    def topic_plan(self) -> list[TopicPlan]:
        """Every topic on the broker now, as ``(name, partitions, compacted)``: dead letters and faust
        changelogs are the compacted ones."""
        metadata = AdminClient(self.kafka_settings.confluent_config()).list_topics(timeout=30)
        return [
            (name, len(topic.partitions), name.endswith((".dlq", "-changelog")))
            for name, topic in sorted(metadata.topics.items())
        ]

    # -- tools -----------------------------------------------------------------------------------

    def cli(self, *args: str, timeout: float = 300.0) -> subprocess.CompletedProcess[str]:
        """Run `bookshelf ARGS...` against this system, as an operator would."""
        return run_cli(self.base_env(), *args, timeout=timeout)

    async def _execute(self, statement: str) -> None:
        conn = await asyncpg.connect(self.pg.dsn("postgres"))
        try:
            await conn.execute(statement)
        finally:
            await conn.close()
