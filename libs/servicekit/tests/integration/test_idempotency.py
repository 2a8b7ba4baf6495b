"""Idempotency-Key store against real PostgreSQL: replay, conflict, same-transaction rollback, races."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from bookshelf_infra.testing import TestDatabase
from bookshelf_infra.testing.service import in_transactions
from bookshelf_messaging.db import create_engine, create_session_factory
from bookshelf_servicekit.idempotency import (
    IdempotencyKeyReused,
    IdempotencyRequest,
    SqlIdempotencyRepository,
    StoredResponse,
    metadata,
    run_idempotent,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..idempotency_contract import IdempotencyRepositoryContract, Store

effects = sa.Table("effects", metadata, sa.Column("id", sa.Text, primary_key=True))


@pytest.fixture
async def sessions(database: TestDatabase) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database.url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield create_session_factory(engine)
    await engine.dispose()


async def create(
    sessions: async_sessionmaker[AsyncSession], request: IdempotencyRequest | None, *, fail: bool = False
) -> StoredResponse:
    """The shape of a POST-create route: effect and key in one transaction."""
    async with sessions() as session, session.begin():

        async def work() -> dict[str, str]:
            new_id = str(uuid.uuid4())
            await session.execute(sa.insert(effects).values(id=new_id))
            return {"id": new_id}

        answer = await run_idempotent(SqlIdempotencyRepository(session), request, work, status_code=201)
        if fail:
            raise RuntimeError("the transaction fails after the effect")
        return answer


async def count(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int((await session.execute(sa.select(sa.func.count()).select_from(effects))).scalar_one())


def request(key: str, body: bytes = b'{"a": 1}') -> IdempotencyRequest:
    return IdempotencyRequest.of(key, "POST", "/things", body)


async def test_same_key_same_body_replays_the_first_answer(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    first = await create(sessions, request("k1"))
    again = await create(sessions, request("k1"))
    assert not first.replayed
    assert again.replayed
    assert (again.status_code, again.body) == (201, first.body)
    assert await count(sessions) == 1


async def test_same_key_other_body_is_a_conflict(sessions: async_sessionmaker[AsyncSession]) -> None:
    await create(sessions, request("k2"))
    with pytest.raises(IdempotencyKeyReused, match="k2"):
        await create(sessions, request("k2", b'{"a": 2}'))
    assert await count(sessions) == 1


async def test_without_key_every_call_has_an_effect(sessions: async_sessionmaker[AsyncSession]) -> None:
    await create(sessions, None)
    await create(sessions, None)
    assert await count(sessions) == 2


async def test_failed_transaction_does_not_keep_the_key(sessions: async_sessionmaker[AsyncSession]) -> None:
    with pytest.raises(RuntimeError):
        await create(sessions, request("k3"), fail=True)
    answer = await create(sessions, request("k3"))
    assert not answer.replayed
    assert await count(sessions) == 1


async def test_concurrent_requests_with_one_key_have_one_effect(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    answers = await asyncio.gather(*(create(sessions, request("k4")) for _ in range(8)))
    assert len({a.body["id"] for a in answers}) == 1
    assert sum(not a.replayed for a in answers) == 1
    assert await count(sessions) == 1


class TestSqlIdempotencyRepositoryContract(IdempotencyRepositoryContract):
    """The contract of tests/idempotency_contract.py, on the table."""

    @pytest.fixture
    def store(self, sessions: async_sessionmaker[AsyncSession]) -> Store:
        return in_transactions(sessions, SqlIdempotencyRepository)
