"""What the apache/kafka image makes of a container's environment, and what the broker then needs to
start: enough to check the compose files' broker settings without a Docker engine.

The image (github.com/apache/kafka, ``docker/``) runs ``docker/resources/common-scripts/configure``,
then ``kafka.docker.KafkaDockerWrapper setup``, which writes every ``KAFKA_*`` variable (but a few JVM
ones) as a broker property. The configure script sets up the key store only when the advertised
listeners contain ``SSL://``; otherwise ``KAFKA_SSL_KEYSTORE_FILENAME`` and the credentials files stay
unknown properties and an SSL listener has no key store.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

SECRETS_DIR = "/etc/kafka/secrets"
# Variables KafkaDockerWrapper does not turn into properties (JVM and logging options).
NOT_PROPERTIES = {
    "KAFKA_VERSION",
    "KAFKA_HEAP_OPTS",
    "KAFKA_LOG4J_OPTS",
    "KAFKA_OPTS",
    "KAFKA_JMX_OPTS",
    "KAFKA_JVM_PERFORMANCE_OPTS",
    "KAFKA_GC_LOG_OPTS",
    "KAFKA_LOG4J_ROOT_LOGLEVEL",
    "KAFKA_LOG4J_LOGGERS",
    "KAFKA_TOOLS_LOG4J_LOGLEVEL",
    "KAFKA_JMX_HOSTNAME",
}
_TLS = {"SSL", "SASL_SSL"}
_SASL = {"SASL_PLAINTEXT", "SASL_SSL"}


class ImageExit(RuntimeError):
    """The image's configure script exits before Kafka starts."""


def configure(env: Mapping[str, str], secret_files: set[str]) -> dict[str, str]:
    """The environment after the configure script (``secret_files``: names in /etc/kafka/secrets)."""
    out = {key: str(value) for key, value in env.items()}

    def file_variable(name: str) -> str:
        if not out.get(name):
            raise ImageExit(f"{name} environment variable not set")
        if out[name] not in secret_files:
            raise ImageExit(f"{SECRETS_DIR}/{out[name]} file does not exist")
        return f"{SECRETS_DIR}/{out[name]}"

    if out.get("KAFKA_PROCESS_ROLES") and not out.get("CLUSTER_ID"):
        raise ImageExit("CLUSTER_ID environment variable not set")
    advertised = out.get("KAFKA_ADVERTISED_LISTENERS", "")
    if not out.get("KAFKA_LISTENERS") and advertised:
        out["KAFKA_LISTENERS"] = re.sub(r"://[^:]*:", "://0.0.0.0:", advertised)
    if "SSL://" in advertised:
        out["KAFKA_SSL_KEYSTORE_LOCATION"] = file_variable("KAFKA_SSL_KEYSTORE_FILENAME")
        out["KAFKA_SSL_KEY_PASSWORD"] = f"<{file_variable('KAFKA_SSL_KEY_CREDENTIALS')}>"
        out["KAFKA_SSL_KEYSTORE_PASSWORD"] = f"<{file_variable('KAFKA_SSL_KEYSTORE_CREDENTIALS')}>"
        if out.get("KAFKA_SSL_CLIENT_AUTH", "") in ("required", "requested"):
            out["KAFKA_SSL_TRUSTSTORE_LOCATION"] = file_variable("KAFKA_SSL_TRUSTSTORE_FILENAME")
            out["KAFKA_SSL_TRUSTSTORE_PASSWORD"] = f"<{file_variable('KAFKA_SSL_TRUSTSTORE_CREDENTIALS')}>"
    if re.search(r"SASL_.*://", advertised) and not out.get("KAFKA_OPTS"):
        raise ImageExit("KAFKA_OPTS environment variable not set")
    return out


def server_properties(env: Mapping[str, str]) -> dict[str, str]:
    """KafkaDockerWrapper's mapping: KAFKA_A_B -> a.b, ``___`` -> ``-``, ``__`` -> ``_``."""
    properties = {}
    for key, value in env.items():
        if key.startswith("KAFKA_") and key not in NOT_PROPERTIES:
            name = key.removeprefix("KAFKA_").lower().replace("_", ".").replace("...", "-").replace("..", "_")
            properties[name] = str(value)
    return properties


def _listeners(value: str) -> dict[str, str]:
    return dict(item.split("://", 1) for item in value.split(",") if item)


def start_problems(properties: Mapping[str, str], jvm_options: str = "") -> list[str]:
    """What would stop a KRaft broker from starting with these properties (the parts used here)."""
    problems = []
    listeners = _listeners(properties.get("listeners", ""))
    advertised = _listeners(properties.get("advertised.listeners", ""))
    protocols = dict(
        pair.split(":", 1) for pair in properties.get("listener.security.protocol.map", "").split(",") if pair
    )
    for name in listeners:
        protocol = protocols.get(name, name)
        if protocol not in {"PLAINTEXT", *_TLS, *_SASL}:
            problems.append(f"listener {name}: no security protocol")
        prefix = f"listener.name.{name.lower()}."
        if protocol in _TLS:
            for key in ("ssl.keystore.location", "ssl.keystore.password"):
                if key not in properties and prefix + key not in properties:
                    problems.append(f"listener {name} ({protocol}): no {key}")
        if protocol in _SASL:
            if not properties.get("sasl.enabled.mechanisms"):
                problems.append(f"listener {name}: no sasl.enabled.mechanisms")
            if "java.security.auth.login.config" not in jvm_options:
                problems.append(f"listener {name}: no JAAS configuration (KAFKA_OPTS)")
    for name in [*advertised, properties.get("inter.broker.listener.name", "")]:
        if name and name not in listeners:
            problems.append(f"{name} is advertised or inter-broker but not a listener")
    for name in properties.get("controller.listener.names", "").split(","):
        if name not in listeners:
            problems.append(f"controller listener {name} is not a listener")
    inter_broker = properties.get("sasl.mechanism.inter.broker.protocol")
    if inter_broker and inter_broker not in properties.get("sasl.enabled.mechanisms", "").split(","):
        problems.append(f"inter-broker SASL mechanism {inter_broker} is not enabled")
    return problems
