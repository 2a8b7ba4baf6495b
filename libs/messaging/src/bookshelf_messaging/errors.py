"""Exceptions of the messaging plumbing, and what a failure means: the message, the moment, or the
infrastructure.

``classify_error`` decides by cause (SQLSTATE, exception type), never by the driver class that carries
it: SQLAlchemy wraps asyncpg's errors (``.orig``, whose ``__cause__`` is asyncpg's own exception), and
asyncpg reports a value it cannot encode (an int32 column given 2**31) as ``DataError``, a subclass of
its ``InterfaceError``, which also covers a closed connection.

| kind | what | consumer runner |
|---|---|---|
| ``PERMANENT`` | ``PermanentError`` (and ``MessageTooLarge``) | dead-lettered at once |
| ``DATA`` | SQLSTATE class 22, asyncpg's client-side ``DataError`` | dead-lettered at once |
| ``TRANSIENT`` | 40001 serialization, 40P01 deadlock, 55P03 lock timeout, 25006 read-only (failover) | retried with backoff, outside the dead-letter budget |
| ``INFRASTRUCTURE`` | class 08, 57P01-57P03, lost connections, pool timeout, ``OSError`` of a database or broker client | partition rewound, retried after a bounded wait, counted |
| ``FAILURE`` | anything else (a bug, a constraint) | ``max_retries`` retries, then dead-lettered |
"""

from __future__ import annotations

import enum
import socket
from collections.abc import Iterator

import asyncpg
from sqlalchemy import exc as sa_exc


class PermanentError(Exception):
    """Raised by a handler for a message retrying cannot fix (bad payload): dead-lettered at once."""


class InfrastructureError(Exception):
    """The database or broker is unreachable; the runner retries the batch later instead of blaming it."""


class MessageTooLarge(PermanentError):
    """An event whose Kafka record would exceed the topic's size limit (``limits.MAX_MESSAGE_BYTES``).

    Raised by ``Outbox.add`` / ``add_many`` before anything is written: the record could never be
    published. HTTP answers it 413 (servicekit); a consumer dead-letters the message that caused it.
    """

    def __init__(self, topic: str, size: int, limit: int) -> None:
        super().__init__(
            f"the event for topic {topic!r} would be a Kafka record of {size:,} bytes; "
            f"the limit is {limit:,} bytes"
        )
        self.topic = topic
        self.size = size
        self.limit = limit


class ErrorKind(enum.Enum):
    """What a failure means for the message being handled (see the module table)."""

    PERMANENT = "permanent"
    DATA = "data"
    TRANSIENT = "transient"
    INFRASTRUCTURE = "infrastructure"
    FAILURE = "failure"


DATA_EXCEPTION_CLASS = "22"
CONNECTION_EXCEPTION_CLASS = "08"
# The server ends or refuses sessions: admin shutdown, crash shutdown, cannot connect now. (57014,
# a cancelled statement, shares the class but not the cause.)
SHUTDOWN_SQLSTATES = frozenset({"57P01", "57P02", "57P03"})
TRANSIENT_SQLSTATES = frozenset(
    {
        "40001",  # serialization_failure
        "40P01",  # deadlock_detected
        "55P03",  # lock_not_available (lock_timeout, NOWAIT)
        "25006",  # read_only_sql_transaction: a primary turned standby during failover
    }
)
# Modules whose OSError means "the server could not be reached" (asyncpg raises FileNotFoundError for
# a Unix socket directory that is gone, a plain OSError when every address of a host failed).
CLIENT_MODULES = ("asyncpg", "aiokafka", "confluent_kafka", "kafka")

CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionError,
    socket.gaierror,
    InfrastructureError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,  # "connection is closed"; its DataError subclass is told apart first
    # A connection whose protocol state is broken ("another operation is in progress"), seen when
    # PostgreSQL shut down under a relay: only a new connection helps.
    asyncpg.InternalClientError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.CannotConnectNowError,
    sa_exc.TimeoutError,  # connection pool exhausted
    sa_exc.InterfaceError,
)


def _causes(error: BaseException) -> Iterator[BaseException]:
    """``error``, the DBAPI error it wraps (``.orig``) and their causes, outermost first."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        pending.extend([orig if isinstance(orig, BaseException) else None, current.__cause__])


def sqlstate_of(error: BaseException) -> str | None:
    """The first SQLSTATE found on ``error`` or what it wraps (asyncpg, SQLAlchemy, psycopg)."""
    for cause in _causes(error):
        state = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
        if isinstance(state, str) and len(state) == 5:
            return state
    return None


def _is_client_data_error(error: BaseException) -> bool:
    # asyncpg.exceptions._base.DataError(InterfaceError, ValueError): an argument it cannot encode.
    return isinstance(error, asyncpg.InterfaceError) and isinstance(error, ValueError)


def _raised_by_client(error: BaseException) -> bool:
    """True when a database or broker client's code is on the traceback of ``error``."""
    tb = error.__traceback__
    while tb is not None:
        module = tb.tb_frame.f_globals.get("__name__", "")
        if isinstance(module, str) and module.split(".", 1)[0] in CLIENT_MODULES:
            return True
        tb = tb.tb_next
    return False


def classify_error(error: BaseException) -> ErrorKind:
    """The kind of ``error`` by its cause: SQLSTATE first, then the exception types it wraps."""
    if isinstance(error, PermanentError):
        return ErrorKind.PERMANENT
    causes = list(_causes(error))
    if any(_is_client_data_error(cause) for cause in causes):
        return ErrorKind.DATA
    state = sqlstate_of(error)
    if state is not None:
        if state.startswith(DATA_EXCEPTION_CLASS):
            return ErrorKind.DATA
        if state in TRANSIENT_SQLSTATES:
            return ErrorKind.TRANSIENT
        if state.startswith(CONNECTION_EXCEPTION_CLASS) or state in SHUTDOWN_SQLSTATES:
            return ErrorKind.INFRASTRUCTURE
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return ErrorKind.INFRASTRUCTURE
    for cause in causes:
        if isinstance(cause, CONNECTION_ERRORS):
            return ErrorKind.INFRASTRUCTURE
        if isinstance(cause, OSError) and _raised_by_client(cause):
            return ErrorKind.INFRASTRUCTURE
    return ErrorKind.FAILURE


def is_infrastructure_error(error: BaseException) -> bool:
    """True when ``error`` means a lost or unavailable connection, not a problem with the message.

    Such errors must not dead-letter messages: the runner rewinds the partition and retries later;
    HTTP answers 503 with ``Retry-After``.
    """
    return classify_error(error) is ErrorKind.INFRASTRUCTURE
