"""The whole system on the SASL_SSL overlay's broker (tests/e2e/sasl_ssl_broker.py): every client kind
connects through TLS with SASL/PLAIN, using the services' own KAFKA_* settings from the overlay.

Client kinds reached: confluent-kafka admin (`bookshelf run` creates the topics) and producers (every
outbox relay, the DLQ writer), aiokafka consumers (the services' consumer runners, the observatory's
index), faust (the saga worker), the observatory's throwaway DLQ reader (`bookshelf-dlq-reader-*`) and
the topic scan of `bookshelf trace --scan` (`bookshelf-trace-scan-*`). An order round-trips the saga to
DELIVERED and a poison record is dead-lettered, listed and replayed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from bookshelf_infra.testing import eventually
from confluent_kafka import KafkaException, Producer
from confluent_kafka.admin import AdminClient

from tests.e2e.sasl_ssl_broker import SecuredBroker, admin_client_properties, keytool, sasl_ssl_broker
from tests.e2e.system import ADMIN, RunningSystem, Shop, start_system, system_home

pytestmark = pytest.mark.e2e

POISON_TOPIC = "catalog.books"


@pytest.fixture(scope="module")
def secured() -> Iterator[SecuredBroker]:
    tool = keytool()
    if tool is None:
        pytest.skip("no keytool (a JDK 17+) to make the overlay's certificates")
    with system_home("bookshelf-sasl-ssl") as folder, sasl_ssl_broker(folder, tool) as broker:
        yield broker


@pytest.fixture(scope="module")
def secured_system(secured: SecuredBroker) -> Iterator[RunningSystem]:
    with system_home("bookshelf-sasl-ssl-home") as home:
        system = start_system(home, env=secured.client_env)
        yield system
        assert system.stop() == 0, (home / "run.out").read_text()


def test_the_broker_refuses_plaintext_and_wrong_passwords(secured: SecuredBroker) -> None:
    for refused in (
        {"bootstrap.servers": secured.bootstrap},  # no TLS, no SASL
        secured.confluent(**{"sasl.password": "wrong"}),
        secured.confluent(**{"ssl.ca.location": "/etc/ssl/certs/ca-certificates.crt"}),  # not the dev CA
    ):
        with pytest.raises(KafkaException):
            AdminClient({**refused, "log_level": 0}).list_topics(timeout=3)
    # The broker's health check (client.properties, the admin user) and the services' user get in.
    assert AdminClient(admin_client_properties(secured)).list_topics(timeout=10).brokers
    assert AdminClient(secured.confluent()).list_topics(timeout=10).brokers


async def test_an_order_and_a_poison_record_go_through_every_client(
    secured: SecuredBroker, secured_system: RunningSystem
) -> None:
    system = secured_system
    topics = AdminClient(secured.confluent()).list_topics(timeout=10).topics
    assert {"ordering.orders", "inventory.commands", "catalog.books.dlq"} <= set(topics)

    async with httpx.AsyncClient(timeout=10.0) as client:
        shop = Shop(system, client)
        book = await shop.add_book("Cryptonomicon")
        correlation_id = f"e2e-sasl-ssl-{uuid.uuid4()}"
        order_id = (await shop.place_order([(book, 1)], headers={"X-Correlation-ID": correlation_id}))[
            "order_id"
        ]
        await shop.wait_saga(order_id, "AWAITING_DISPATCH", within=60)
        shipment = await shop.shipment(order_id)
        await shop.staff_move(shipment["shipment_id"], "dispatch")
        await shop.staff_move(shipment["shipment_id"], "deliver")
        await shop.wait_saga(order_id, "DELIVERED", within=60)
        await shop.wait_order(order_id, "DELIVERED")

        async def indexed() -> dict[str, object]:
            answer = await client.get(f"{system.url('observatory')}/api/trace/{order_id}", headers=ADMIN)
            assert answer.status_code == 200, answer.text
            document: dict[str, object] = answer.json()
            assert correlation_id in document["correlation_ids"]
            return document

        await eventually(indexed, timeout=60, interval=0.5, message="the observatory never indexed the order")

        key = f"sasl-ssl-poison-{uuid.uuid4()}"
        sent: list[tuple[int, int]] = []
        producer = Producer(secured.confluent(partitioner="murmur2_random"))
        producer.produce(
            POISON_TOPIC,
            key=key.encode(),
            value=b"{not json",
            headers=[("type", b"BookAdded")],
            on_delivery=lambda err, msg: sent.append((msg.partition(), msg.offset())),
        )
        assert producer.flush(10) == 0
        del producer
        [(partition, offset)] = sent

        async def dead_lettered() -> list[dict[str, Any]]:
            answer = await client.get(f"{system.url('observatory')}/api/dead-letters", headers=ADMIN)
            assert answer.status_code == 200, answer.text
            mine = [
                e
                for e in answer.json()
                if (e["original_topic"], e["original_partition"], e["original_offset"])
                == (POISON_TOPIC, partition, offset)
            ]
            assert mine
            return mine

        [entry, *_] = await eventually(
            dead_lettered, timeout=60, interval=0.5, message="the poison record never reached the DLQ list"
        )
        replayed = await client.post(
            f"{system.url('observatory')}/api/dead-letters/{entry['entry_id']}/replay", headers=ADMIN
        )
        assert replayed.status_code == 200, replayed.text

    scanned = system.cli("trace", order_id, "--scan", "--json")
    assert scanned.returncode == 0, scanned.stderr
    document = orjson.loads(scanned.stdout)
    assert document["source"] == "topic scan"
    assert correlation_id in document["correlation_ids"]
    listed = system.cli("dlq", "list", "--topic", POISON_TOPIC, "--json")
    assert listed.returncode == 0, listed.stderr
    assert key in {e["key"] for e in orjson.loads(listed.stdout)["entries"]}  # replayed, failed again
