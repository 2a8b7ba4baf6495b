"""Topics from the contracts: the Job that creates them on any Kafka, and Strimzi KafkaTopics."""

from __future__ import annotations

from typing import Any

from deploy.k8s.manifests.model import PART_OF, secret_env
from deploy.k8s.manifests.pods import (
    ENV_FROM,
    KAFKA_TLS_MOUNT,
    container_security,
    hook_job,
    image,
    kafka_tls_volume,
    labels,
)

REPLICAS = 3  # the Strimzi example's brokers


def topics_job() -> dict[str, Any]:
    """Create every topic with its partitions (compacted DLQs) from the contracts: one source of truth."""
    job_labels = labels("kafka-topics", "topics")
    code = (
        "from bookshelf_messaging.admin import ensure_topics_sync; "
        "from bookshelf_messaging.settings import KafkaSettings; "
        "created = ensure_topics_sync(KafkaSettings()); "
        "print(f'created {len(created)} topics', *created)"
    )
    container = {
        "name": "topics",
        "image": image("catalog"),
        "imagePullPolicy": "IfNotPresent",
        "command": ["python", "-c", code],
        "envFrom": ENV_FROM,
        "env": [secret_env("KAFKA_SASL_PASSWORD", "bookshelf-kafka", "password", optional=True)],
        "resources": {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
        "securityContext": container_security(),
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}, KAFKA_TLS_MOUNT],
    }
    volumes = [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}, kafka_tls_volume()]
    return hook_job("kafka-topics", job_labels, [container], volumes, backoff_limit=6, deadline_s=600)


def strimzi_topics() -> list[dict[str, Any]]:
    """A KafkaTopic per topic of ``bookshelf_messaging.admin.topic_plan()``: the contracts' topic list,
    configured as ``ensure_topics`` creates it (``topic_config``: kept forever, or compacted DLQs).

    Production-shaped: 3 replicas, and a write (acks=all) needs 2 of them in sync.
    """
    from bookshelf_messaging.admin import topic_config, topic_plan

    documents = []
    for name, partitions, compacted in topic_plan():
        config = {key: _number(value) for key, value in topic_config(compacted, REPLICAS).items()}
        documents.append(
            {
                "apiVersion": "kafka.strimzi.io/v1",
                "kind": "KafkaTopic",
                "metadata": {
                    # A DNS-label-like resource name; spec.topicName carries the real topic name.
                    "name": name.replace(".", "-"),
                    "namespace": "kafka",
                    "labels": {"strimzi.io/cluster": "bookshelf", "app.kubernetes.io/part-of": PART_OF},
                },
                "spec": {"topicName": name, "partitions": partitions, "replicas": REPLICAS, "config": config},
            }
        )
    return documents


def _number(value: str) -> int | str:
    """Kafka config values as YAML numbers where they are numbers (``-1``, ``2``)."""
    return int(value) if value.lstrip("-").isdigit() else value
