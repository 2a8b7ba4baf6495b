"""Retry, replay and backoff: every limit and wait schedule of the plumbing, in one place.

- A consumed message that fails is retried ``MAX_RETRIES`` times (``MAX_RETRIES + 1`` attempts) with
  ``CONSUMER_BACKOFF``, then dead-lettered (``RetryPolicy``); the runner, fulfillment's saga worker
  and tests use the same class.
- A dead letter is replayed at most ``REPLAY_LIMIT`` times (its ``dlq.replay_count``): the CLI, the
  observatory and ``DeadLetterStore`` share the number.
- Every wait grows exponentially and uses full jitter: after the n-th consecutive failure the delay
  is drawn uniformly from ``[0, min(max_s, base_s * 2**(n-1))]`` (``Backoff.ceiling`` is that upper
  bound), so consumers, relays and processes that failed together do not retry in lock step.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

MAX_RETRIES = 3
REPLAY_LIMIT = 5


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with full jitter: ``base_s`` after the first failure, doubling, capped."""

    base_s: float
    max_s: float

    def ceiling(self, failures: int) -> float:
        """The longest wait after ``failures`` consecutive failures (0 before the first)."""
        if failures < 1:
            return 0.0
        return float(min(self.max_s, self.base_s * 2 ** (failures - 1)))

    def delay(self, failures: int, *, rand: Callable[[], float] = random.random) -> float:
        """A wait drawn uniformly from ``[0, ceiling(failures)]`` (full jitter)."""
        return self.ceiling(failures) * rand()


CONSUMER_BACKOFF = Backoff(base_s=0.1, max_s=5.0)  # between attempts at one failing message
INFRASTRUCTURE_BACKOFF = Backoff(base_s=1.0, max_s=5.0)  # while the database or broker is away
RELAY_BACKOFF = Backoff(base_s=0.5, max_s=30.0)  # before re-publishing rows whose delivery failed
RESTART_BACKOFF = Backoff(base_s=1.0, max_s=30.0)  # `bookshelf run` restarting a crashed process


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently a failing message is retried before it is dead-lettered."""

    max_retries: int = MAX_RETRIES
    backoff_base_s: float = CONSUMER_BACKOFF.base_s
    backoff_max_s: float = CONSUMER_BACKOFF.max_s

    @property
    def backoff(self) -> Backoff:
        """The wait schedule between attempts."""
        return Backoff(self.backoff_base_s, self.backoff_max_s)

    def delay(self, failures: int) -> float:
        """Seconds to wait after ``failures`` failed attempts (jittered, see ``Backoff``)."""
        return self.backoff.delay(failures)
