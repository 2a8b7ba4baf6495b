"""Backoff schedules, lane decisions, error classification, topic plans (no I/O)."""

from __future__ import annotations

import asyncpg
import pytest
from bookshelf_contracts import TopicSpec
from bookshelf_messaging.admin import topic_plan
from bookshelf_messaging.errors import InfrastructureError, PermanentError, is_infrastructure_error
from bookshelf_messaging.lanes import lane_of, primary_has_work, subscribed_topics
from bookshelf_messaging.policy import RELAY_BACKOFF, Backoff, RetryPolicy
from bookshelf_messaging.relay import RECOVERABLE, lock_key
from sqlalchemy import exc as sa_exc


def test_consumer_backoff_doubles_and_caps() -> None:
    policy = RetryPolicy(max_retries=3, backoff_base_s=0.1, backoff_max_s=0.3)
    assert [policy.backoff.ceiling(n) for n in range(5)] == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.3])


def test_relay_retry_delay_doubles_and_caps() -> None:
    assert [RELAY_BACKOFF.ceiling(n) for n in (1, 2, 3, 10)] == [0.5, 1.0, 2.0, 30.0]


def test_backoff_uses_full_jitter_below_the_ceiling() -> None:
    backoff = Backoff(base_s=1.0, max_s=8.0)
    assert backoff.delay(3, rand=lambda: 0.0) == 0.0
    assert backoff.delay(3, rand=lambda: 0.5) == pytest.approx(2.0)
    assert backoff.delay(0) == 0.0
    drawn = {backoff.delay(4) for _ in range(50)}
    assert all(0.0 <= d <= 8.0 for d in drawn)
    assert len(drawn) > 1  # drawn, not a fixed schedule


def test_lane_of_and_subscriptions() -> None:
    assert lane_of("catalog.books") == "primary"
    assert lane_of("catalog.books.bulk") == "bulk"
    assert subscribed_topics(["a", "b"], lanes=False) == ["a", "b"]
    assert subscribed_topics(["a", "b"], lanes=True) == ["a", "a.bulk", "b", "b.bulk"]


@pytest.mark.parametrize(
    ("fetched", "watermarks", "busy"),
    [
        (0, [], False),
        (0, [(10, 10), (None, None)], False),
        (3, [(10, 10)], True),
        (0, [(10, 9)], True),
        (0, [(None, 5), (5, None)], False),
    ],
)
def test_primary_has_work(fetched: int, watermarks: list[tuple[int | None, int | None]], busy: bool) -> None:
    assert primary_has_work(fetched, watermarks) is busy


def test_infrastructure_errors_are_told_apart_from_message_errors() -> None:
    assert is_infrastructure_error(ConnectionRefusedError())
    assert is_infrastructure_error(InfrastructureError("dlq down"))
    assert is_infrastructure_error(sa_exc.TimeoutError("pool"))
    assert is_infrastructure_error(asyncpg.InternalClientError("another operation is in progress"))
    invalidated = sa_exc.DBAPIError("SELECT 1", {}, Exception("gone"), connection_invalidated=True)
    assert is_infrastructure_error(invalidated)
    assert not is_infrastructure_error(ValueError("bad price"))
    assert not is_infrastructure_error(PermanentError("bad payload"))
    assert not is_infrastructure_error(sa_exc.IntegrityError("INSERT", {}, Exception("dup")))


def test_topic_plan_has_bulk_and_compacted_dlq() -> None:
    plan = topic_plan([TopicSpec("x.events", "id", partitions=3)])
    assert plan == [("x.events", 3, False), ("x.events.bulk", 3, False), ("x.events.dlq", 3, True)]


def test_the_relay_reconnects_after_a_broken_connection_state() -> None:
    assert issubclass(asyncpg.InternalClientError, RECOVERABLE)
    assert issubclass(asyncpg.InterfaceError, RECOVERABLE)
    assert not issubclass(ValueError, RECOVERABLE)


def test_lock_key_is_stable_signed_64_bit() -> None:
    assert lock_key("catalog") == lock_key("catalog")
    assert lock_key("catalog") != lock_key("ordering")
    assert -(2**63) <= lock_key("catalog") < 2**63
