"""A rebuild refuses topics that lost their oldest records (retention, DeleteRecords): it would replace
the read model with recent events only. On a broker of its own: the test deletes records."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterator

import pytest
from bookshelf_contracts import CATALOG_BOOKS
from bookshelf_infra.kafka import LocalKafka, temporary_broker
from bookshelf_messaging import KafkaSettings, ensure_topics
from bookshelf_storefront.domain.read_models import CATALOG
from bookshelf_storefront.rebuild import HistoryIncomplete, check_history, rebuild
from confluent_kafka import Producer, TopicPartition
from confluent_kafka.admin import AdminClient

UNUSED_DATABASE = "postgresql+asyncpg://nobody@127.0.0.1:9/none"  # the refusal comes before any SQL


@pytest.fixture(scope="module")
def broker() -> Iterator[LocalKafka]:
    with temporary_broker(die_with_parent=True) as kafka:
        yield kafka


async def test_a_topic_that_lost_its_oldest_records_is_refused(broker: LocalKafka) -> None:
    kafka = KafkaSettings(bootstrap_servers=broker.bootstrap_servers)
    await ensure_topics(kafka)
    await check_history(kafka, [CATALOG])  # whole history: no refusal

    producer = Producer({"bootstrap.servers": broker.bootstrap_servers})
    for n in range(3):
        producer.produce(CATALOG_BOOKS, value=b"{}", key=b"k", partition=2, headers=[("n", str(n).encode())])
    assert producer.flush(10) == 0
    admin = AdminClient({"bootstrap.servers": broker.bootstrap_servers})
    [future] = admin.delete_records([TopicPartition(CATALOG_BOOKS, 2, 2)]).values()
    await asyncio.to_thread(future.result, 30)  # records 0 and 1 are gone, as retention would do

    with pytest.raises(HistoryIncomplete, match=r"catalog\.books\[2\] starts at 2"):
        await rebuild(UNUSED_DATABASE, kafka, "catalog")

    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
           "STOREFRONT_DATABASE_URL": UNUSED_DATABASE, "COLUMNS": "200"}  # fmt: skip
    command = [sys.executable, "-m", "bookshelf_cli.main", "projections", "rebuild", "catalog"]
    process = await asyncio.create_subprocess_exec(
        *command, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=300)
    text = " ".join(output.decode().split())
    assert process.returncode == 1, text
    assert "refusing to rebuild catalog" in text
    assert "--allow-partial-history" in text
