"""What every IdempotencyRepository must do, stated once and run against the in-memory double
(tests/unit) and the SQL repository on real PostgreSQL (tests/integration).

A subclass provides ``store``: ``store()`` opens one transaction and yields its repository; what one
transaction stored, the next one reads.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import pytest
from bookshelf_servicekit.idempotency import (
    IdempotencyKeyReused,
    IdempotencyRepository,
    IdempotencyRequest,
    StoredResponse,
)

Store = Callable[[], AbstractAsyncContextManager[IdempotencyRepository]]


def request(key: str, body: bytes = b'{"a": 1}') -> IdempotencyRequest:
    return IdempotencyRequest.of(key, "POST", "/things", body)


class IdempotencyRepositoryContract:
    """The IdempotencyRepository port."""

    @pytest.fixture
    def store(self) -> Store:
        raise NotImplementedError

    async def test_a_completed_key_answers_its_response_again(self, store: Store) -> None:
        first = request(f"k-{uuid.uuid4()}")
        async with store() as keys:
            assert await keys.claim(first) is None
            await keys.complete(first, 201, {"id": "x"})
        async with store() as keys:
            assert await keys.claim(first) == StoredResponse(201, {"id": "x"}, replayed=True)

    async def test_a_key_reused_with_another_body_is_refused(self, store: Store) -> None:
        key = f"k-{uuid.uuid4()}"
        async with store() as keys:
            assert await keys.claim(request(key)) is None
            await keys.complete(request(key), 201, {"id": "x"})
        async with store() as keys:
            with pytest.raises(IdempotencyKeyReused, match="different request"):
                await keys.claim(request(key, b'{"a": 2}'))

    async def test_a_claimed_key_without_an_answer_is_refused(self, store: Store) -> None:
        key = request(f"k-{uuid.uuid4()}")
        async with store() as keys:
            assert await keys.claim(key) is None
        async with store() as keys:
            with pytest.raises(IdempotencyKeyReused, match="no stored answer"):
                await keys.claim(key)
