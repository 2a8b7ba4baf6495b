"""Dead letters of the saga worker for records larger than clients assume by default (no broker).

tests/faults scenario 4 found a 1.5 MB poison record crashing the saga agent: its dead letter could
not be sent (faust's producer refused requests above 1 MB), so it was lost for the saga's DLQ."""

from __future__ import annotations

from datetime import UTC, datetime

from aiokafka.errors import MessageSizeTooLargeError
from bookshelf_fulfillment.adapters.dead_letters import ConsumedRecord, dead_letter_record, too_large
from bookshelf_fulfillment.config import FulfillmentSettings
from bookshelf_fulfillment.entrypoints.worker import build_app
from bookshelf_messaging import KafkaSettings
from bookshelf_messaging.dlq import H_VALUE_TRUNCATED, TRUNCATED_VALUE_BYTES, header
from faust.exceptions import ProducerSendError

OVERSIZED = b"\x00" * 1_500_000
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_the_worker_can_write_a_dead_letter_of_what_it_can_read() -> None:
    app = build_app(FulfillmentSettings(), KafkaSettings())
    assert app.conf.producer_max_request_size > 2 * len(OVERSIZED)


def test_a_refused_oversized_letter_is_recognised_and_can_be_cut() -> None:
    wrapped = ProducerSendError("Error while sending")
    wrapped.__cause__ = MessageSizeTooLargeError("too large")  # what faust raises from aiokafka's error
    assert too_large(wrapped)
    assert not too_large(ProducerSendError("Error while sending"))
    record = ConsumedRecord("ordering.orders", 2, 7, b"order-1", OVERSIZED, [])
    whole = dead_letter_record(record, "fulfillment.saga", ValueError("bad"), 1, NOW, NOW)
    cut = dead_letter_record(record, "fulfillment.saga", ValueError("bad"), 1, NOW, NOW, truncate=True)
    assert whole.value == OVERSIZED
    assert cut.value == OVERSIZED[:TRUNCATED_VALUE_BYTES]
    assert header(cut.headers, H_VALUE_TRUNCATED) == str(len(OVERSIZED)).encode()
    assert (cut.topic, cut.key) == (whole.topic, whole.key)
