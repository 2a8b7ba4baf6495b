"""`bookshelf run`: local Apache Kafka + PostgreSQL, topics, databases, migrations, every service, URLs.

Order of start: infrastructure (data kept under ``.bookshelf/``), missing topics, databases and
migrations, then the services. Ctrl-C (or SIGTERM) stops the services first, then the broker and
PostgreSQL. If `bookshelf run` itself is killed, nothing outlives it: the broker and the services get
SIGTERM from the kernel (a parent-death signal) and a watchdog process stops PostgreSQL, so the next
start finds its ports free and its data intact.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Iterator
from types import FrameType

from rich.console import Console
from rich.table import Table

from bookshelf_cli.local import LocalConfig
from bookshelf_cli.services import ServiceSpec
from bookshelf_cli.supervisor import Child, restart_crashed, service_env, wait_ready

console = Console()


@contextlib.contextmanager
def local_infrastructure(config: LocalConfig, specs: list[ServiceSpec]) -> Iterator[None]:
    """Start the local broker and PostgreSQL unless the environment points at external ones."""
    from bookshelf_infra import _watchdog
    from bookshelf_infra.kafka import LocalKafka
    from bookshelf_infra.postgres import EmbeddedPostgres

    with contextlib.ExitStack() as stack:
        if config.needs_embedded_postgres(specs):
            config.home.mkdir(parents=True, exist_ok=True)
            pg = EmbeddedPostgres(config.home / "postgres", port=config.pg_port, host=config.host)
            with console.status(f"Starting PostgreSQL on {config.host}:{config.pg_port}"):
                pg.start()
            stack.callback(pg.stop)
            watchdog = _watchdog.spawn(postgres_datadir=pg.datadir)  # stops PostgreSQL if we are killed
            stack.callback(watchdog.terminate)
            for spec in specs:
                if spec.database and not spec.database_url_override():
                    pg.create_database(spec.database)
        if not config.external_kafka:
            kafka = LocalKafka(
                config.home / "kafka",
                port=config.kafka_port,
                host=config.host,
                controller_port=config.kafka_controller_port,
                die_with_parent=True,
            )
            with console.status("Preparing Apache Kafka (the jars are fetched and verified once)"):
                version = kafka.version
            with console.status(f"Starting Apache Kafka {version} on {config.kafka_bootstrap}"):
                kafka.start()
            console.print(f"Broker: {kafka.describe()}")
            stack.callback(kafka.stop)
        yield


def prepare(config: LocalConfig, specs: list[ServiceSpec]) -> None:
    """Create every topic and bring every service database to the newest migration."""
    from bookshelf_messaging.admin import ensure_topics
    from bookshelf_messaging.settings import KafkaSettings

    with console.status("Creating topics"):
        asyncio.run(ensure_topics(KafkaSettings(bootstrap_servers=config.kafka_bootstrap)))
    for spec in specs:
        url = config.database_url(spec)
        if url:
            with console.status(f"Migrating {spec.name}"):
                spec.migrate(url)


def print_urls(children: list[Child], ready: dict[str, bool], config: LocalConfig) -> None:
    table = Table(title="Bookshelf is running (Ctrl-C stops it)")
    table.add_column("service")
    table.add_column("URL")
    table.add_column("state")
    for child in children:
        state = "[green]ready" if ready[child.spec.name] else "[red]not ready (see log)"
        table.add_row(child.spec.name, f"{child.url}{child.spec.page}", state)
    table.add_row("kafka", config.kafka_bootstrap, "[green]up")
    console.print(table)
    console.print(f"Logs: {config.logs}/<service>.log; data: {config.home} (make clean deletes it)")


def run_system(specs: list[ServiceSpec], config: LocalConfig | None = None) -> int:
    """Run everything until interrupted; returns the exit status."""
    config = config or LocalConfig()
    stop = False

    def on_signal(signum: int, frame: FrameType | None) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    with local_infrastructure(config, specs):
        prepare(config, specs)
        children = [
            Child(
                s,
                service_env(s, config.kafka_bootstrap, config.database_url(s)),
                config.logs / f"{s.name}.log",
            )
            for s in specs
        ]
        for child in children:
            child.start()
        try:
            print_urls(children, wait_ready(children), config)
            while not stop:
                restart_crashed(children)
                time.sleep(0.5)
        finally:
            console.print("Stopping services ...")
            for child in reversed(children):
                child.stop()
    console.print("Stopped.")
    return 0
