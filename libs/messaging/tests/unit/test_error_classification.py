"""Consumer errors are classified by their cause (SQLSTATE, exception type), not by the driver class
that carries them: issue 16, item 3 (and 7a for connection failures that asyncpg raises as OSError).

The exceptions are built the way asyncpg and SQLAlchemy build them: asyncpg's own classes, translated
by SQLAlchemy's asyncpg dialect into its DBAPI classes and wrapped in ``sqlalchemy.exc`` errors.
"""

from __future__ import annotations

import asyncpg
import asyncpg.exceptions as pg
import pytest
from bookshelf_messaging.errors import (
    ErrorKind,
    InfrastructureError,
    MessageTooLarge,
    PermanentError,
    classify_error,
    is_infrastructure_error,
)
from bookshelf_messaging.policy import INFRASTRUCTURE_BACKOFF
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_dbapi

DBAPI = AsyncAdapt_asyncpg_dbapi(asyncpg)


def as_sqlalchemy(error: Exception) -> BaseException:
    """``error`` as SQLAlchemy raises it from a statement on the asyncpg dialect."""
    translate = DBAPI._asyncpg_error_translate
    adapted_type = next(translate[cls] for cls in type(error).__mro__ if cls in translate)
    adapted = adapted_type(error.args[0] if error.args else "", error)
    adapted.__cause__ = error
    return sa_exc.DBAPIError.instance("UPDATE t SET v = $1", (2**31,), adapted, DBAPI.Error)


def client_data_error() -> Exception:
    """What asyncpg raises when it cannot encode an argument (int32 column, value 2**31)."""
    return asyncpg.exceptions._base.DataError(
        "invalid input for query argument $1: 2147483648 (value out of int32 range)"
    )


def test_client_side_data_error_is_a_data_error_not_an_outage() -> None:
    wrapped = as_sqlalchemy(client_data_error())
    assert isinstance(wrapped, sa_exc.InterfaceError)  # how it reaches a handler: an "InterfaceError"
    assert classify_error(wrapped) is ErrorKind.DATA
    assert classify_error(client_data_error()) is ErrorKind.DATA
    assert not is_infrastructure_error(wrapped)


@pytest.mark.parametrize(
    "error",
    [
        pg.NumericValueOutOfRangeError("integer out of range"),  # 22003
        pg.DivisionByZeroError("division by zero"),  # 22012
        pg.CharacterNotInRepertoireError('invalid byte sequence for encoding "UTF8": 0x00'),  # 22021
        pg.InvalidTextRepresentationError("invalid input syntax for type integer"),  # 22P02
    ],
)
def test_sqlstate_class_22_is_a_data_error(error: Exception) -> None:
    assert classify_error(as_sqlalchemy(error)) is ErrorKind.DATA
    assert classify_error(error) is ErrorKind.DATA


@pytest.mark.parametrize(
    "error",
    [
        pg.SerializationError("could not serialize access"),  # 40001
        pg.DeadlockDetectedError("deadlock detected"),  # 40P01
        pg.LockNotAvailableError("canceling statement due to lock timeout"),  # 55P03
        pg.ReadOnlySQLTransactionError("cannot execute UPDATE in a read-only transaction"),  # 25006
    ],
)
def test_concurrency_conflicts_and_failover_are_transient(error: Exception) -> None:
    assert classify_error(as_sqlalchemy(error)) is ErrorKind.TRANSIENT
    assert classify_error(error) is ErrorKind.TRANSIENT
    assert not is_infrastructure_error(as_sqlalchemy(error))


@pytest.mark.parametrize(
    "error",
    [
        pg.ConnectionFailureError("connection failure"),  # 08006
        pg.ClientCannotConnectError("cannot connect"),  # 08001
        pg.AdminShutdownError("terminating connection due to administrator command"),  # 57P01
        pg.CrashShutdownError("terminating connection because of crash of another server process"),
        pg.CannotConnectNowError("the database system is starting up"),  # 57P03
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.InterfaceError("cannot perform operation: connection is closed"),
        asyncpg.InternalClientError("another operation is in progress"),
    ],
)
def test_connection_errors_are_infrastructure(error: Exception) -> None:
    assert classify_error(error) is ErrorKind.INFRASTRUCTURE
    assert classify_error(as_sqlalchemy(error)) is ErrorKind.INFRASTRUCTURE
    assert is_infrastructure_error(as_sqlalchemy(error))


def test_a_cancelled_statement_is_not_an_outage() -> None:
    # 57014 (statement_timeout, pg_cancel_backend) shares class 57 with the shutdowns, not their cause.
    error = as_sqlalchemy(pg.QueryCanceledError("canceling statement due to statement timeout"))
    assert classify_error(error) is ErrorKind.FAILURE


async def test_oserror_of_a_database_connect_is_infrastructure(tmp_path: object) -> None:
    # PostgreSQL's socket directory gone (issue 16, 7a): asyncpg raises FileNotFoundError on connect.
    with pytest.raises(FileNotFoundError) as caught:
        await asyncpg.connect(host=f"{tmp_path}/gone", user="postgres", database="x", timeout=5)
    assert classify_error(caught.value) is ErrorKind.INFRASTRUCTURE
    assert is_infrastructure_error(caught.value)


def test_oserror_of_application_code_is_not_infrastructure(tmp_path: object) -> None:
    with pytest.raises(FileNotFoundError) as caught:
        open(f"{tmp_path}/missing.csv")  # noqa: SIM115 - the error is the point
    assert classify_error(caught.value) is ErrorKind.FAILURE
    assert not is_infrastructure_error(caught.value)


def test_permanent_and_plain_failures() -> None:
    assert classify_error(PermanentError("bad payload")) is ErrorKind.PERMANENT
    assert classify_error(MessageTooLarge("t", 2_000_000, 999_000)) is ErrorKind.PERMANENT
    assert classify_error(ValueError("bad price")) is ErrorKind.FAILURE
    assert classify_error(as_sqlalchemy(pg.UniqueViolationError("duplicate key"))) is ErrorKind.FAILURE
    assert classify_error(InfrastructureError("dlq down")) is ErrorKind.INFRASTRUCTURE
    assert classify_error(ConnectionRefusedError()) is ErrorKind.INFRASTRUCTURE
    assert classify_error(sa_exc.TimeoutError("pool exhausted")) is ErrorKind.INFRASTRUCTURE


def test_the_wait_for_the_infrastructure_grows_and_is_bounded() -> None:
    waits = [INFRASTRUCTURE_BACKOFF.ceiling(n) for n in range(1, 7)]
    assert waits == [1.0, 2.0, 4.0, 5.0, 5.0, 5.0]
