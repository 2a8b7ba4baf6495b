"""A local Apache Kafka broker: one KRaft node (broker and controller) whose data is kept on disk.

The jars come from Maven Central by the pinned coordinates of ``kafka.lock.json`` and run on Java 17+
(``kafka_dist``). The data folder holds ``server.properties`` (written on every start from the
arguments), the log directory (formatted once, on first start) and the broker's own log. A restart on
the same folder keeps every topic, record, committed offset and compacted dead letter.

Settings are sized for a laptop and for tests (see ``broker_properties``): one node, replication 1,
no rebalance delay for the first member of a group, no automatic topic creation, a small heap.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

import psutil
from confluent_kafka.admin import AdminClient

from ._net import PortInUseError, listens_on, port_in_use
from ._proc import die_with_parent_hook, stop_process_group
from .kafka_dist import KafkaDistribution, kafka_distribution

__all__ = ["BrokerStartError", "LocalKafka", "PortInUseError", "broker_properties", "temporary_broker"]

log = logging.getLogger(__name__)

LOG4J_CONFIG = Path(__file__).with_name("kafka-log4j2.properties")
JVM_OPTIONS = (
    "-Xms64m",
    "-Xmx384m",
    "-XX:MaxMetaspaceSize=96m",
    "-XX:ReservedCodeCacheSize=64m",
    "-XX:+UseSerialGC",
    "-XX:+ExitOnOutOfMemoryError",
    "-Xss512k",
    "-Djava.awt.headless=true",
)


class BrokerStartError(RuntimeError):
    """The broker process exited or did not answer Metadata requests before the deadline."""


def broker_properties(
    data_dir: Path, host: str, port: int, controller_port: int, advertised_host: str | None = None
) -> dict[str, str]:
    """The ``server.properties`` of a one-node KRaft cluster keeping its log under ``data_dir``."""
    return {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@127.0.0.1:{controller_port}",
        "listeners": f"PLAINTEXT://{host}:{port},CONTROLLER://127.0.0.1:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://{advertised_host or host}:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(data_dir / "log"),
        # One node: every internal topic with one replica; topics are created explicitly.
        "auto.create.topics.enable": "false",
        "num.partitions": "1",
        "default.replication.factor": "1",
        "min.insync.replicas": "1",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "10",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "transaction.state.log.num.partitions": "4",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        # The first member of a new group does not wait 3 s for others.
        "group.initial.rebalance.delay.ms": "0",
        # Two cores: fewer threads, and a 16 MB (not 128 MB) dedupe buffer for the compaction cleaner.
        "num.network.threads": "2",
        "num.io.threads": "4",
        "num.recovery.threads.per.data.dir": "2",
        "background.threads": "4",
        "log.cleaner.dedupe.buffer.size": str(16 * 1024 * 1024),
        "log.cleaner.backoff.ms": "5000",
    }


class LocalKafka:
    """Apache Kafka on ``host:port`` (controller on ``controller_port``), data kept in ``data_dir``.

    ``die_with_parent=True`` (Linux) makes the kernel send SIGTERM to the broker when the thread that
    started it exits, so a killed supervisor or test run leaves no broker behind; only use it from a
    long-lived thread.

    A secured broker (``extra_properties`` with SSL or SASL listeners): ``java_options`` adds JVM
    options (e.g. ``-Djava.security.auth.login.config=...``, as ``KAFKA_OPTS`` would) and
    ``client_config`` holds the librdkafka security settings of the readiness check, which must then
    connect the way clients do.
    """

    def __init__(
        self,
        data_dir: Path,
        port: int = 9092,
        host: str = "127.0.0.1",
        *,
        controller_port: int | None = None,
        advertised_host: str | None = None,
        ready_timeout: float = 60.0,
        die_with_parent: bool = False,
        extra_properties: Mapping[str, str] | None = None,
        java_options: Sequence[str] = (),
        client_config: Mapping[str, str] | None = None,
    ) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.port = port
        self.host = host
        self.controller_port = controller_port or port + 1
        self.advertised_host = advertised_host
        self.ready_timeout = ready_timeout
        self.die_with_parent = die_with_parent
        self.extra_properties = dict(extra_properties or {})
        self.java_options = tuple(java_options)
        self.client_config = dict(client_config or {})
        self.log_path = self.data_dir / "kafka.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None
        self._dist: KafkaDistribution | None = None

    @property
    def bootstrap_servers(self) -> str:
        """The ``host:port`` string clients bootstrap from."""
        return f"{self.advertised_host or self.host}:{self.port}"

    @property
    def version(self) -> str:
        """The Apache Kafka version this broker runs."""
        return self.distribution.version

    @property
    def distribution(self) -> KafkaDistribution:
        if self._dist is None:
            self._dist = kafka_distribution()
        return self._dist

    @property
    def pid(self) -> int | None:
        """The broker's process id while it runs."""
        return self._proc.pid if self.is_running() and self._proc else None

    def is_running(self) -> bool:
        """True while the broker process started by this object is alive."""
        return self._proc is not None and self._proc.poll() is None

    def describe(self) -> str:
        """One line for a start banner: what runs, where, and where its data is."""
        return f"Apache Kafka {self.version} (KRaft, one node) on {self.bootstrap_servers}, data in {self.data_dir}"

    def start(self) -> None:
        """Format the storage on first use, launch the broker and wait for a Metadata answer."""
        if self.is_running():
            return
        self._reap_orphan()
        for port, variable in (
            (self.port, "BOOKSHELF_KAFKA_PORT"),
            (self.controller_port, "BOOKSHELF_KAFKA_CONTROLLER_PORT"),
        ):
            if port_in_use(self.host if port == self.port else "127.0.0.1", port):
                raise PortInUseError(f"port {port} is in use; set {variable} or stop the other process")
        started = time.monotonic()
        config = self._write_config()
        if not (self.data_dir / "log" / "meta.properties").exists():
            self._format(config)
        self._log_file = self.log_path.open("ab")
        self._proc = subprocess.Popen(
            [*self._java_command(), "kafka.Kafka", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            env=_broker_env(),
            start_new_session=True,
            preexec_fn=die_with_parent_hook() if self.die_with_parent else None,
        )
        self._pid_file.write_text(str(self._proc.pid))
        try:
            self._wait_ready(started + self.ready_timeout)
        except BaseException:
            self.stop()
            raise
        log.info("%s ready in %.1f s", self.describe(), time.monotonic() - started)

    @property
    def _pid_file(self) -> Path:
        return self.data_dir / "kafka.pid"

    def _reap_orphan(self, grace_s: float = 30.0) -> None:
        """Stop a broker of this data folder left behind by a killed owner (it holds the ports)."""
        try:
            orphan = psutil.Process(int(self._pid_file.read_text()))
            if str(self.data_dir / "server.properties") not in orphan.cmdline():
                return  # the pid was reused by another program
        except (OSError, ValueError, psutil.Error):
            return
        log.warning("stopping a broker left behind on %s (pid %s)", self.data_dir, orphan.pid)
        orphan.terminate()
        try:
            orphan.wait(grace_s)
        except psutil.TimeoutExpired:
            orphan.kill()
            orphan.wait(10)

    def _write_config(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        properties = broker_properties(
            self.data_dir, self.host, self.port, self.controller_port, self.advertised_host
        )
        properties.update(self.extra_properties)
        path = self.data_dir / "server.properties"
        path.write_text("".join(f"{key}={value}\n" for key, value in properties.items()))
        return path

    def _java_command(self) -> list[str]:
        dist = self.distribution
        return [
            dist.java,
            *JVM_OPTIONS,
            *self.java_options,
            f"-Dlog4j2.configurationFile={LOG4J_CONFIG}",
            "-cp",
            dist.classpath,
        ]

    def _format(self, config: Path) -> None:
        """``kafka-storage format``: give the new log directory a cluster id (once, before first start)."""
        cluster_id = _cluster_id()
        command = [
            *self._java_command(),
            "kafka.tools.StorageTool",
            "format",
            f"--cluster-id={cluster_id}",
            "-c",
            str(config),
        ]
        done = subprocess.run(command, capture_output=True, text=True, env=_broker_env(), check=False)
        if done.returncode != 0:
            raise BrokerStartError(f"formatting {self.data_dir / 'log'} failed:\n{done.stdout}{done.stderr}")

    def _wait_ready(self, deadline: float) -> None:
        assert self._proc is not None
        # Our process must listen first: a Metadata answer could otherwise come from whoever owns the port.
        while not listens_on(self._proc.pid, self.port):
            self._check_alive()
            if time.monotonic() > deadline:
                raise BrokerStartError(f"broker did not listen on {self.bootstrap_servers}{self._log_tail()}")
            time.sleep(0.02)
        admin = AdminClient(
            {**self.client_config, "bootstrap.servers": self.bootstrap_servers, "log_level": 0}
        )
        while True:
            self._check_alive()
            try:
                metadata = admin.list_topics(timeout=max(0.1, min(1.0, deadline - time.monotonic())))
                if metadata.brokers:
                    return
            except Exception as exc:
                if time.monotonic() > deadline:
                    raise BrokerStartError(
                        f"broker on {self.bootstrap_servers} gave no Metadata answer: {exc}{self._log_tail()}"
                    ) from exc
            if time.monotonic() > deadline:
                raise BrokerStartError(
                    f"broker on {self.bootstrap_servers} registered no broker{self._log_tail()}"
                )
            time.sleep(0.02)

    def _check_alive(self) -> None:
        if self._proc is not None and self._proc.poll() is not None:
            raise BrokerStartError(
                f"broker exited with status {self._proc.returncode} while starting{self._log_tail()}"
            )

    def _log_tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return ""
        tail = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        return f"\n--- last lines of {self.log_path} ---\n" + "\n".join(tail) if tail else ""

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM the broker (a controlled shutdown), wait, then SIGKILL; no-op when not running."""
        proc, self._proc = self._proc, None
        if proc is not None:
            stop_process_group(proc, timeout)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def kill(self) -> None:
        """SIGKILL the broker at once, as a crash would (its data stays, recovered on the next start)."""
        self.stop(timeout=0)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"LocalKafka({self.bootstrap_servers!r}, data_dir={str(self.data_dir)!r}, running={self.is_running()})"


@contextlib.contextmanager
def temporary_broker(**kwargs: Any) -> Iterator[LocalKafka]:
    """A broker on free ports with its data in a new temporary folder, removed after the block."""
    from ._net import free_port

    with tempfile.TemporaryDirectory(prefix="bookshelf-kafka-") as tmp:
        kwargs.setdefault("port", free_port())
        kwargs.setdefault("controller_port", free_port())
        with LocalKafka(Path(tmp), **kwargs) as broker:
            yield broker


def _cluster_id() -> str:
    """A random cluster id in Kafka's form: a UUID as 22 characters of URL-safe base64.

    Like Kafka's own ``Uuid.randomUuid()``, never one that starts with ``-``: the storage tool's
    argument parser would take it for an option (one start in 64 failed before this).
    """
    import base64

    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def _broker_env() -> dict[str, str]:
    # The broker's own JVM options come from JVM_OPTIONS; options meant for other Java programs
    # (or an OTLP agent for the services) must not leak in.
    skip = ("KAFKA_OPTS", "KAFKA_HEAP_OPTS", "JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "CLASSPATH")
    return {k: v for k, v in os.environ.items() if k not in skip}
