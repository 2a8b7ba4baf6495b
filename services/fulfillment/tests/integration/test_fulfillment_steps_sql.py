"""A saga step is one PostgreSQL transaction: inbox row, instance, history row and commands as outbox
rows, all or nothing (real PostgreSQL, the shared consumer policy, no broker)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import bookshelf_contracts as c
import orjson
import pytest
from bookshelf_fulfillment.adapters import repository
from bookshelf_fulfillment.domain.messages import command_id
from bookshelf_infra.testing import eventually
from bookshelf_messaging import InfrastructureError

from .conftest import SagaDb, created, envelope, placed, reserved


async def commands(saga: SagaDb, order_id: UUID) -> list[tuple[str, str, c.Envelope]]:
    rows = await saga.fetch("SELECT topic, key, value FROM outbox ORDER BY id")
    found = [(r["topic"], r["key"], c.Envelope.from_json(bytes(r["value"]))) for r in rows]
    return [f for f in found if f[1] == str(order_id)]


async def waiting_for_a_lock(saga: SagaDb) -> bool:
    rows = await saga.fetch(
        "SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'", saga.db.name
    )
    return bool(rows)


async def test_a_step_writes_the_instance_its_history_and_its_commands_in_one_transaction(
    saga_db: SagaDb,
) -> None:
    order_id = uuid4()
    cause = envelope(placed(order_id), correlation_id="corr-1")

    await saga_db.feed(cause)

    [row] = await saga_db.fetch(
        "SELECT state, deadline, version FROM fulfillments WHERE order_id = $1", order_id
    )
    assert row["state"] == "AWAITING_STOCK"
    assert row["deadline"] is not None
    [history] = await saga_db.fetch("SELECT * FROM fulfillment_history WHERE order_id = $1", order_id)
    assert history["message_id"] == str(cause.message_id)
    assert history["action"] == "order placed; sent ReserveStock -> AWAITING_STOCK"
    [(topic, _, command)] = await commands(saga_db, order_id)
    assert topic == "inventory.commands"
    assert command.type == "ReserveStock"
    assert command.message_id == command_id(str(cause.message_id), "ReserveStock", order_id)
    assert (command.correlation_id, command.causation_id) == ("corr-1", str(cause.message_id))
    assert command.producer == "fulfillment"
    [inbox] = await saga_db.fetch("SELECT message_id FROM inbox WHERE consumer_group = 'fulfillment.saga'")
    assert inbox["message_id"] == cause.message_id


async def test_a_redelivered_message_changes_nothing(saga_db: SagaDb) -> None:
    order_id = uuid4()
    first, second = envelope(placed(order_id)), envelope(reserved(order_id))

    await saga_db.feed(first, second)
    await saga_db.feed(first, second)  # a redelivery after a crash or a rebalance
    await saga_db.feed(second)

    assert [
        r["state"]
        for r in await saga_db.fetch("SELECT state FROM fulfillments WHERE order_id = $1", order_id)
    ] == ["AWAITING_SHIPMENT"]
    assert len(await saga_db.fetch("SELECT 1 FROM fulfillment_history WHERE order_id = $1", order_id)) == 2
    assert [e.type for _, _, e in await commands(saga_db, order_id)] == [
        "ReserveStock",
        "ConfirmOrder",
        "CreateShipment",
    ]


async def test_one_batch_keeps_the_order_of_its_events_per_order(saga_db: SagaDb) -> None:
    a, b = uuid4(), uuid4()

    await saga_db.feed(
        envelope(placed(a)),
        envelope(placed(b)),
        envelope(reserved(a)),
        envelope(created(a)),
        envelope(reserved(b)),
    )

    states = {
        r["order_id"]: r["state"] for r in await saga_db.fetch("SELECT order_id, state FROM fulfillments")
    }
    assert (states[a], states[b]) == ("AWAITING_DISPATCH", "AWAITING_SHIPMENT")


async def test_a_poison_record_is_dead_lettered_and_the_rest_of_the_batch_is_handled(saga_db: SagaDb) -> None:
    order_id = uuid4()
    broken = orjson.loads(envelope(reserved(order_id)).to_json())
    broken["data"]["order_id"] = "not-a-uuid"

    await saga_db.feed(envelope(placed(order_id)), orjson.dumps(broken), b"not json")

    assert len(saga_db.letters) == 2
    assert {type(f.error).__name__ for _, f in saga_db.letters} == {
        "MessageValidationError",
        "InvalidEnvelope",
    }
    assert len(await saga_db.fetch("SELECT 1 FROM fulfillments WHERE order_id = $1", order_id)) == 1


async def test_a_dead_letter_that_cannot_be_written_fails_the_batch_for_a_retry(saga_db: SagaDb) -> None:
    order_id = uuid4()
    saga_db.fail_letters = True

    with pytest.raises(InfrastructureError):
        await saga_db.feed(envelope(placed(order_id)), b"not json")

    saga_db.fail_letters = False
    await saga_db.feed(envelope(placed(order_id)), b"not json")  # the retry: the handled one is a duplicate
    assert len(saga_db.letters) == 1
    assert len(await commands(saga_db, order_id)) == 1


async def test_a_step_that_fails_writes_nothing_of_it(
    saga_db: SagaDb, monkeypatch: pytest.MonkeyPatch
) -> None:
    order_id = uuid4()
    await saga_db.feed(envelope(placed(order_id)))

    async def broken(*_: object, **__: object) -> None:
        raise RuntimeError("a bug after the instance was written")

    monkeypatch.setattr(repository, "write_commands", broken)
    await saga_db.feed(envelope(reserved(order_id)))  # 4 attempts, then the dead letter

    assert [f.attempts for _, f in saga_db.letters] == [4]
    [row] = await saga_db.fetch("SELECT state, version FROM fulfillments WHERE order_id = $1", order_id)
    assert (row["state"], row["version"]) == ("AWAITING_STOCK", 1)
    assert len(await saga_db.fetch("SELECT 1 FROM fulfillment_history WHERE order_id = $1", order_id)) == 1


async def test_concurrent_timers_claim_each_expired_instance_once(saga_db: SagaDb) -> None:
    orders = [uuid4() for _ in range(6)]
    await saga_db.feed(*[envelope(placed(o)) for o in orders])
    later = datetime.now(UTC) + timedelta(seconds=61)
    saga_db.steps.clock = lambda: later
    first, second = saga_db.sessions(), saga_db.sessions()

    async with first, first.begin():
        claimed_first = await saga_db.steps.expire_due(first, 3)  # holds its rows until it commits
        async with second, second.begin():
            claimed_second = await saga_db.steps.expire_due(second, 10)  # SKIP LOCKED: the other three

    assert (claimed_first, claimed_second) == (3, 3)
    rows = await saga_db.fetch("SELECT state, cancel_reason, deadline FROM fulfillments")
    assert {(r["state"], r["cancel_reason"], r["deadline"]) for r in rows} == {
        ("CANCELLED", "timed out", None)
    }
    timeouts = [e.type for o in orders for _, _, e in await commands(saga_db, o)]
    assert timeouts.count("CancelOrder") == 6
    async with saga_db.sessions() as again, again.begin():
        assert await saga_db.steps.expire_due(again, 10) == 0


async def test_the_timer_skips_an_instance_whose_event_is_being_handled(saga_db: SagaDb) -> None:
    order_id = uuid4()
    await saga_db.feed(envelope(placed(order_id)))
    later = datetime.now(UTC) + timedelta(seconds=61)
    saga_db.steps.clock = lambda: later

    async with saga_db.sessions() as handling, handling.begin():
        await repository.lock(handling, order_id)  # an event's transaction holds the instance
        async with saga_db.sessions() as timer, timer.begin():
            assert await saga_db.steps.expire_due(timer, 10) == 0
    async with saga_db.sessions() as timer, timer.begin():
        assert await saga_db.steps.expire_due(timer, 10) == 1


async def test_an_event_waits_for_the_timers_transaction_and_then_sees_its_outcome(saga_db: SagaDb) -> None:
    order_id = uuid4()
    await saga_db.feed(envelope(placed(order_id)))
    later = datetime.now(UTC) + timedelta(seconds=61)
    saga_db.steps.clock = lambda: later

    async with saga_db.sessions() as timer, timer.begin():
        assert await saga_db.steps.expire_due(timer, 10) == 1
        late = asyncio.create_task(saga_db.feed(envelope(reserved(order_id))))
        await eventually(lambda: waiting_for_a_lock(saga_db), message="the event never waited for the row")
        assert not late.done()
    await late

    history = await saga_db.fetch(
        "SELECT event, action FROM fulfillment_history WHERE order_id = $1 ORDER BY id", order_id
    )
    assert [h["event"] for h in history] == ["OrderPlaced", "DeadlinePassed", "StockReserved"]
    # A late success after the end is compensated (docs/domain.md): its release goes out again.
    assert history[-1]["action"] == "compensated: StockReserved after the end (CANCELLED); sent ReleaseStock"
