"""Which produce and delivery errors mean "never deliverable" (parked) and which are retried, and the one
size limit the outbox, the relay's producer and the topics share (issue 16, item 1). No I/O."""

from __future__ import annotations

import asyncio

import pytest
from bookshelf_messaging import KafkaSettings, OutboxRelay
from bookshelf_messaging._delivery import BatchDelivery, refuses_record
from bookshelf_messaging.errors import MessageTooLarge
from bookshelf_messaging.limits import FRAMING_BYTES, MAX_MESSAGE_BYTES, MAX_RECORD_BYTES, record_size
from bookshelf_messaging.outbox import check_size
from confluent_kafka import KafkaError, KafkaException


def kafka_exception(code: int, *, retriable: bool = False, fatal: bool = False) -> KafkaException:
    return KafkaException(KafkaError(code, retriable=retriable, fatal=fatal))


@pytest.mark.parametrize(
    ("exc", "refused"),
    [
        (kafka_exception(KafkaError.MSG_SIZE_TOO_LARGE), True),  # over message.max.bytes
        (kafka_exception(KafkaError._INVALID_ARG), True),
        (TypeError("header value must be bytes"), True),
        (kafka_exception(KafkaError._UNKNOWN_TOPIC), False),  # a restarted broker without the topic yet
        (kafka_exception(KafkaError._UNKNOWN_PARTITION), False),
        (kafka_exception(KafkaError._FATAL, fatal=True), False),  # the producer, not the record
        (kafka_exception(KafkaError._STATE), False),
        (kafka_exception(KafkaError.TOPIC_AUTHORIZATION_FAILED), False),
        (kafka_exception(KafkaError._TIMED_OUT, retriable=True), False),
    ],
)
def test_what_produce_raises_is_refused_only_when_it_is_about_the_record(
    exc: Exception, refused: bool
) -> None:
    assert refuses_record(exc) is refused


async def test_delivery_reports_split_into_delivered_failed_and_refused() -> None:
    delivery = BatchDelivery(asyncio.get_running_loop(), [1, 2, 3, 4])
    delivery.on_delivery(1, None, None)
    delivery.on_delivery(2, KafkaError(KafkaError.MSG_SIZE_TOO_LARGE), None)  # the topic's limit
    delivery.on_delivery(3, KafkaError(KafkaError._MSG_TIMED_OUT), None)  # retried
    assert not delivery.future.done()
    delivery.not_sent([4], "Broker: Message size too large", refused=True)  # produce() raised
    await asyncio.wait_for(delivery.future, 1)
    assert delivery.delivered == [1]
    assert set(delivery.refused) == {2, 4}
    assert set(delivery.failed) == {3}


def test_one_size_for_the_producer_the_topics_and_the_outbox() -> None:
    relay = OutboxRelay("postgresql://u@h/db", service="svc", kafka=KafkaSettings())
    assert relay.producer_config["message.max.bytes"] == MAX_MESSAGE_BYTES
    assert relay.producer_config["batch.size"] == MAX_MESSAGE_BYTES
    assert MAX_RECORD_BYTES == MAX_MESSAGE_BYTES - FRAMING_BYTES


def test_the_outbox_check_counts_key_value_and_headers() -> None:
    headers = [("type", b"BookAdded"), ("message_id", b"x" * 36)]
    assert record_size(b"key", b"v" * 10, headers) == 3 + 10 + 4 + 9 + 10 + 36
    value = b"v" * (MAX_RECORD_BYTES - record_size(b"key", b"", headers))
    check_size("catalog.books", "key", value, headers)  # exactly at the limit
    with pytest.raises(MessageTooLarge, match="limit is 998,976 bytes") as caught:
        check_size("catalog.books", "key", value + b"v", headers)
    assert (caught.value.size, caught.value.limit) == (MAX_RECORD_BYTES + 1, MAX_RECORD_BYTES)
