"""The broker of the SASL_SSL compose overlay (deploy/compose/sasl-ssl.yml), run on the local Apache Kafka.

The same configuration, not a look-alike: the overlay's own ``kafka-secrets/generate.sh`` makes the CA,
the broker key store and the SASL users (keytool of a Java 17+ on this machine, into a folder instead
of the volume); the overlay's ``kafka`` environment goes through what the apache/kafka image does with
it (``tests/deploy/kafka_image_support``) to broker properties; ``KAFKA_OPTS`` becomes the JVM options.
Only addresses change: the container ports become free ports on 127.0.0.1, the host names ``kafka`` and
``localhost`` become ``localhost`` (a name in the broker certificate), ``/etc/kafka/secrets`` and
``/etc/bookshelf/kafka`` (the volume, as the broker and the services mount it) become the folder.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from bookshelf_infra.kafka import LocalKafka
from bookshelf_infra.kafka_dist import kafka_distribution
from bookshelf_infra.testing import free_port

from tests.deploy.compose_support import compose_variants, interpolate
from tests.deploy.deploy_support import ROOT
from tests.deploy.kafka_image_support import SECRETS_DIR, configure, server_properties

OVERLAY = ROOT / "deploy" / "compose" / "sasl-ssl.yml"
GENERATE = ROOT / "deploy" / "compose" / "kafka-secrets" / "generate.sh"
CLIENT_MOUNT = "/etc/bookshelf/kafka"  # where the services mount the kafka-secrets volume
USER = "bookshelf"


@dataclass(frozen=True)
class SecuredBroker:
    """A running broker with the overlay's settings and what clients need to reach it."""

    broker: LocalKafka
    secrets: Path
    client_env: dict[str, str]  # the KAFKA_* variables the overlay gives every service, re-addressed

    @property
    def bootstrap(self) -> str:
        return self.client_env["KAFKA_BOOTSTRAP_SERVERS"]

    def confluent(self, **overrides: Any) -> dict[str, Any]:
        """librdkafka settings of the services' user, as KafkaSettings builds them from client_env."""
        env = self.client_env
        return {
            "bootstrap.servers": env["KAFKA_BOOTSTRAP_SERVERS"],
            "security.protocol": env["KAFKA_SECURITY_PROTOCOL"].lower(),
            "sasl.mechanisms": env["KAFKA_SASL_MECHANISM"],
            "sasl.username": env["KAFKA_SASL_USERNAME"],
            "sasl.password": env["KAFKA_SASL_PASSWORD"],
            "ssl.ca.location": env["KAFKA_SSL_CAFILE"],
            **overrides,
        }


def keytool() -> str | None:
    """keytool of the Java the broker runs on, else the one on the PATH."""
    beside = Path(kafka_distribution().java).with_name("keytool")
    return str(beside) if beside.exists() else shutil.which("keytool")


def generate_secrets(folder: Path, password: str, tool: str) -> None:
    """Run the overlay's generate.sh into ``folder``, with ``tool``'s JDK (keytool)."""
    folder.mkdir(parents=True)
    env = {
        "PATH": f"{Path(tool).parent}:/usr/bin:/bin",
        "KAFKA_SECRETS_DIR": str(folder),
        "KAFKA_SASL_USERNAME": USER,
        "KAFKA_SASL_PASSWORD": password,
        "BOOKSHELF_KAFKA_HOST": "localhost",
    }
    done = subprocess.run(["/bin/sh", str(GENERATE)], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"generate.sh failed:\n{done.stdout}{done.stderr}"


def overlay_broker_environment(password: str, secret_files: set[str]) -> dict[str, str]:
    """The kafka container's variables the overlay sets, after the image's configure script."""
    merged = interpolate(compose_variants()["sasl-ssl"], {"KAFKA_SASL_PASSWORD": password})
    environment = {k: str(v) for k, v in merged["services"]["kafka"]["environment"].items()}
    configured = configure(environment, secret_files)
    own = set(yaml.safe_load(OVERLAY.read_text())["services"]["kafka"]["environment"])
    added = configured.keys() - environment.keys()  # the key store settings configure derives
    return {k: v for k, v in configured.items() if k in own | added}


class Readdress:
    """Container addresses and mount points -> this machine's ports and the secrets folder."""

    def __init__(self, secrets_dir: Path, ports: dict[int, int]) -> None:
        self.secrets_dir = secrets_dir
        self.ports = ports

    def __call__(self, value: str) -> str:
        value = value.replace(SECRETS_DIR, str(self.secrets_dir)).replace(CLIENT_MOUNT, str(self.secrets_dir))

        def address(match: re.Match[str]) -> str:
            scheme, host, port = match.group(1), match.group(2) or "", int(match.group(3))
            if port not in self.ports:
                return match.group(0)
            if scheme:  # a listener: bind to the loopback interface, advertise a certificate name
                return f"{scheme}{'127.0.0.1' if host == '' else 'localhost'}:{self.ports[port]}"
            return f"localhost:{self.ports[port]}"

        return re.sub(r"([A-Z_]+://)?(kafka|localhost)?:(\d+)\b", address, value)


def password_files(value: str) -> str:
    """The image passes key store passwords as the content of the credentials files."""
    match = re.fullmatch(r"<(.+)>", value)
    return Path(match.group(1)).read_text() if match else value


@contextlib.contextmanager
def sasl_ssl_broker(folder: Path, tool: str) -> Iterator[SecuredBroker]:
    """The overlay's broker, started with its generated certificates and SASL users under ``folder``."""
    password = secrets.token_urlsafe(16)
    secrets_dir = folder / "secrets"
    generate_secrets(secrets_dir, password, tool)
    internal, external, controller = free_port(), free_port(), free_port()
    readdress = Readdress(secrets_dir, {19092: internal, 9092: external, 9093: controller})
    environment = {
        k: password_files(readdress(v))
        for k, v in overlay_broker_environment(password, {p.name for p in secrets_dir.iterdir()}).items()
    }
    merged = interpolate(compose_variants()["sasl-ssl"], {"KAFKA_SASL_PASSWORD": password})
    service_env = merged["services"]["catalog"]["environment"]
    client_env = {
        k: readdress(str(v)) for k, v in service_env.items() if k.startswith("KAFKA_") and v is not None
    }
    secured = SecuredBroker(
        LocalKafka(
            folder / "kafka",
            port=internal,
            host="127.0.0.1",
            advertised_host="localhost",
            controller_port=controller,
            extra_properties=server_properties(environment),
            java_options=shlex.split(environment["KAFKA_OPTS"]),
        ),
        secrets_dir,
        client_env,
    )
    readiness = secured.confluent()
    del readiness["bootstrap.servers"]
    secured.broker.client_config = readiness
    with secured.broker:
        yield secured


def admin_client_properties(secured: SecuredBroker) -> dict[str, str]:
    """The broker health check's client.properties (the admin user) as librdkafka settings."""
    lines = (secured.secrets / "client.properties").read_text().splitlines()
    java = dict(line.split("=", 1) for line in lines if "=" in line)
    jaas = dict(re.findall(r'(\w+)="([^"]*)"', java["sasl.jaas.config"]))
    return {
        "bootstrap.servers": secured.bootstrap,
        "security.protocol": java["security.protocol"].lower(),
        "sasl.mechanisms": java["sasl.mechanism"],
        "sasl.username": jaas["username"],
        "sasl.password": jaas["password"],
        "ssl.ca.location": java["ssl.truststore.location"],
    }
