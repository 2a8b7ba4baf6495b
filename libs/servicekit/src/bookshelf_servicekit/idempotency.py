"""``Idempotency-Key`` for POST creates: the same key and body answer the first response again.

The key row is claimed at the start of the transaction that makes the effect and completed with the
response before it commits, so the effect and the stored answer exist together or not at all::

    async with uow:                                   # one transaction
        answer = await run_idempotent(uow.idempotency, request_key, work, status_code=201)
        await uow.commit()
    return answer.to_response()

Claiming is ``INSERT ... ON CONFLICT DO NOTHING``: a concurrent request with the same key waits on
the unique index until the first transaction ends, then reads its stored answer (or, if the first
one rolled back, claims the key itself). A key reused with a different method, path or body is a 409.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Protocol

import sqlalchemy as sa
from fastapi import Depends, Header, Request
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from bookshelf_servicekit.responses import OrjsonResponse

IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
REPLAYED_HEADER = "Idempotent-Replayed"


def _columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("method", sa.Text, nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("fingerprint", sa.Text, nullable=False),
        sa.Column("status_code", sa.Integer, nullable=True),
        sa.Column("response_body", JSONB, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    ]


metadata = sa.MetaData()
idempotency_keys = sa.Table(
    "idempotency_keys", metadata, *_columns(), sa.Index("ix_idempotency_keys_created_at", "created_at")
)


class IdempotencyKeyReused(Exception):
    """The key was used before with a different request (409)."""


class InvalidIdempotencyKey(ValueError):
    """The ``Idempotency-Key`` header is empty or too long (422)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.errors = [(IDEMPOTENCY_HEADER, message)]


@dataclass(frozen=True, slots=True)
class IdempotencyRequest:
    """A request's key and the fingerprint (method, path, sha256 of the body) it was sent with."""

    key: str
    method: str
    path: str
    fingerprint: str

    @classmethod
    def of(cls, key: str, method: str, path: str, body: bytes) -> IdempotencyRequest:
        """Fingerprint a request; the key must have 1-255 characters."""
        key = key.strip()
        if not key or len(key) > MAX_KEY_LENGTH:
            raise InvalidIdempotencyKey(f"must have 1-{MAX_KEY_LENGTH} characters, got {len(key)}")
        digest = hashlib.sha256(body).hexdigest()
        return cls(key=key, method=method.upper(), path=path, fingerprint=f"{method.upper()} {path} {digest}")


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """The answer of a create: status and JSON body; ``replayed`` when it came from the store."""

    status_code: int
    body: Any
    replayed: bool = False

    def to_response(self, headers: dict[str, str] | None = None) -> OrjsonResponse:
        """The HTTP response; replays carry ``Idempotent-Replayed: true``."""
        all_headers = dict(headers or {})
        if self.replayed:
            all_headers[REPLAYED_HEADER] = "true"
        return OrjsonResponse(self.body, status_code=self.status_code, headers=all_headers)


class IdempotencyRepository(Protocol):
    """Storage of idempotency keys inside the caller's transaction."""

    async def claim(self, request: IdempotencyRequest) -> StoredResponse | None:
        """Claim the key (None) or return the stored answer; raises IdempotencyKeyReused."""
        ...

    async def complete(self, request: IdempotencyRequest, status_code: int, body: Any) -> None:
        """Store the answer of a claimed key."""
        ...


class SqlIdempotencyRepository:
    """``IdempotencyRepository`` on the ``idempotency_keys`` table, in the given session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, request: IdempotencyRequest) -> StoredResponse | None:
        """Claim the key (None) or return the stored answer; raises IdempotencyKeyReused."""
        inserted = await self.session.execute(
            sa.dialects.postgresql.insert(idempotency_keys)
            .values(
                key=request.key, method=request.method, path=request.path, fingerprint=request.fingerprint
            )
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(idempotency_keys.c.key)
        )
        if inserted.first() is not None:
            return None
        row = (
            await self.session.execute(
                sa.select(
                    idempotency_keys.c.fingerprint,
                    idempotency_keys.c.status_code,
                    idempotency_keys.c.response_body,
                ).where(idempotency_keys.c.key == request.key)
            )
        ).one()
        return stored_answer(request, row.fingerprint, row.status_code, row.response_body)

    async def complete(self, request: IdempotencyRequest, status_code: int, body: Any) -> None:
        """Store the answer of a claimed key."""
        await self.session.execute(
            sa.update(idempotency_keys)
            .where(idempotency_keys.c.key == request.key)
            .values(status_code=status_code, response_body=body)
        )


def stored_answer(
    request: IdempotencyRequest, fingerprint: str, status_code: int | None, body: Any
) -> StoredResponse:
    """What ``claim`` answers for a key already stored with ``fingerprint`` (and the answer, if any)."""
    if fingerprint != request.fingerprint:
        raise IdempotencyKeyReused(
            f"{IDEMPOTENCY_HEADER} {request.key!r} was already used with a different request; "
            "use a new key for a different body"
        )
    if status_code is None:  # only visible if a caller forgot complete() before committing
        raise IdempotencyKeyReused(f"{IDEMPOTENCY_HEADER} {request.key!r} has no stored answer")
    return StoredResponse(status_code=status_code, body=body, replayed=True)


async def run_idempotent(
    repository: IdempotencyRepository,
    request: IdempotencyRequest | None,
    work: Callable[[], Awaitable[Any]],
    *,
    status_code: int = 201,
) -> StoredResponse:
    """Run ``work`` (returning the JSON body) once per key; without a key it just runs ``work``."""
    if request is not None:
        stored = await repository.claim(request)
        if stored is not None:
            return stored
    body = await work()
    if request is not None:
        await repository.complete(request, status_code, body)
    return StoredResponse(status_code=status_code, body=body)


async def idempotency_request(
    request: Request,
    _declared: Annotated[
        str | None,
        Header(
            alias=IDEMPOTENCY_HEADER,
            description="1-255 characters: the same key and body answer the first response again",
        ),
    ] = None,
) -> IdempotencyRequest | None:
    """FastAPI dependency: the request's ``Idempotency-Key`` and fingerprint, or None without one.

    The header is declared (``_declared``) so OpenAPI and ``/docs`` show it; it is read raw below so
    an empty or over-long key gets this module's 422 naming the header.
    """
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    return IdempotencyRequest.of(key, request.method, request.url.path, await request.body())


IdempotencyDep = Annotated[IdempotencyRequest | None, Depends(idempotency_request)]


def create_idempotency_table(op: Any) -> None:
    """Alembic: create ``idempotency_keys`` (call from a service's migration)."""
    op.create_table("idempotency_keys", *_columns())
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])


def drop_idempotency_table(op: Any) -> None:
    """Alembic: drop ``idempotency_keys``."""
    op.drop_index("ix_idempotency_keys_created_at", table_name="idempotency_keys")
    op.drop_table("idempotency_keys")


async def purge_idempotency_keys(session: AsyncSession, older_than_seconds: float) -> int:
    """Delete keys older than the given age (clients retry within minutes, not days); returns the count."""
    result = await session.execute(
        sa.delete(idempotency_keys).where(
            idempotency_keys.c.created_at
            < sa.func.now() - sa.func.make_interval(0, 0, 0, 0, 0, 0, older_than_seconds)
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
