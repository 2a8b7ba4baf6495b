"""Batch-handler test helper: produce a run of events as one batch (one partition, one fetch)."""

from __future__ import annotations

import asyncio
from uuid import UUID, uuid4

from bookshelf_contracts import Envelope, Message, key_for, topic_for

from .conftest import StorefrontIT


async def send_together(
    it: StorefrontIT,
    messages: list[Message],
    *,
    partition: int = 0,
    ids: dict[int, UUID] | None = None,
    topic: str | None = None,
) -> None:
    """Produce ``messages`` in order into one partition without waiting in between (one batch).

    ``ids`` gives some positions a chosen message id (a redelivery of an earlier one); ``topic``
    replaces the contract's topic (then the keys are not the session's: a rebuild never reads them).
    """
    futures = []
    for i, message in enumerate(messages):
        env = Envelope.wrap(
            message, producer="storefront-it", correlation_id=str(uuid4()), message_id=(ids or {}).get(i)
        )
        if topic is None:
            it.keys.add(UUID(key_for(message)))
        value, key, headers = env.to_json(), key_for(message).encode(), env.kafka_headers()
        target = topic or topic_for(message)
        futures.append(await it.producer.send(target, value, key=key, headers=headers, partition=partition))
    await asyncio.gather(*futures)
