"""Exceptions of the messaging plumbing and the line between "this message" and "the infrastructure"."""

from __future__ import annotations

import socket

import asyncpg
from sqlalchemy import exc as sa_exc


class PermanentError(Exception):
    """Raised by a handler for a message retrying cannot fix (bad payload): dead-lettered at once."""


class InfrastructureError(Exception):
    """The database or broker is unreachable; the runner retries the batch later instead of blaming it."""


CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionError,
    socket.gaierror,
    InfrastructureError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    # A connection whose protocol state is broken ("another operation is in progress"), seen when
    # PostgreSQL shut down under a relay: only a new connection helps.
    asyncpg.InternalClientError,
    asyncpg.exceptions.OperatorInterventionError,  # admin shutdown, crash shutdown, cannot connect now
    sa_exc.TimeoutError,  # connection pool exhausted
    sa_exc.InterfaceError,
)


def is_infrastructure_error(error: BaseException) -> bool:
    """True when ``error`` means a lost or unavailable connection, not a problem with the message.

    Such errors must not dead-letter messages: the runner rewinds the partition and retries later.
    """
    if isinstance(error, PermanentError):
        return False
    if isinstance(error, CONNECTION_ERRORS):
        return True
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated:
            return True
        inner = (error.orig, getattr(error.orig, "__cause__", None))
        return any(isinstance(e, CONNECTION_ERRORS) for e in inner if e is not None)
    return False


def backoff_delay(failures: int, *, base_s: float, max_s: float) -> float:
    """Delay before the next attempt after ``failures`` failed ones: ``base * 2**(failures-1)``, capped."""
    if failures < 1:
        return 0.0
    return float(min(max_s, base_s * 2 ** (failures - 1)))
