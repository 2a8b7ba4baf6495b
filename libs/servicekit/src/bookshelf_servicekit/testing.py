"""Test doubles of servicekit's ports, for the unit tests of every service (no I/O).

``InMemoryIdempotencyRepository`` keeps the rules of ``SqlIdempotencyRepository``; the servicekit tests
run one contract against both (tests/idempotency_contract.py).
"""

from __future__ import annotations

from typing import Any

from bookshelf_servicekit.idempotency import IdempotencyRequest, StoredResponse, stored_answer

__all__ = ["InMemoryIdempotencyRepository"]


class InMemoryIdempotencyRepository:
    """A dict-backed ``IdempotencyRepository`` for unit tests with fake units of work."""

    def __init__(self) -> None:
        self.rows: dict[str, tuple[str, int | None, Any]] = {}

    async def claim(self, request: IdempotencyRequest) -> StoredResponse | None:
        """Claim the key (None) or return the stored answer; raises IdempotencyKeyReused."""
        if request.key not in self.rows:
            self.rows[request.key] = (request.fingerprint, None, None)
            return None
        fingerprint, status_code, body = self.rows[request.key]
        return stored_answer(request, fingerprint, status_code, body)

    async def complete(self, request: IdempotencyRequest, status_code: int, body: Any) -> None:
        """Store the answer of a claimed key."""
        self.rows[request.key] = (request.fingerprint, status_code, body)
