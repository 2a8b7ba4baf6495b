"""Input the database refuses to store or compare is the client's error (422), not the server's.

Validation catches what the models describe; a few values pass it and still break PostgreSQL: a NUL
character in a text (``invalid byte sequence for encoding "UTF8": 0x00``), ``\\u0000`` inside JSONB,
a number beyond ``numeric``'s range. PostgreSQL reports them as SQLSTATE class 22 ("data
exception"); asyncpg reports values it cannot encode as ``asyncpg.exceptions.DataError``. Both are
answered as 422 problem+json with the database's reason. Every other database error stays a 500
(or whatever a service maps it to): a connection failure is not the client's fault.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import structlog
from sqlalchemy.exc import DBAPIError

DATA_EXCEPTION_CLASS = "22"

log = structlog.get_logger("bookshelf.http")


def _chain(exc: BaseException) -> list[Any]:
    """The exception, the DBAPI error it wraps and that one's cause (asyncpg's own exception)."""
    seen: list[Any] = [exc]
    orig = getattr(exc, "orig", None)
    if orig is not None:
        seen.append(orig)
        if orig.__cause__ is not None:
            seen.append(orig.__cause__)
    if exc.__cause__ is not None:
        seen.append(exc.__cause__)
    return seen


def _is_client_encoding_error(error: Any) -> bool:
    # asyncpg.exceptions.DataError: a query argument asyncpg cannot encode (e.g. out of int64 range).
    kind = type(error)
    return kind.__name__ == "DataError" and kind.__module__.startswith("asyncpg")


def rejected_input_reason(exc: BaseException) -> str | None:
    """The database's reason when ``exc`` is bad input it refused (class 22 or asyncpg DataError)."""
    if not isinstance(exc, DBAPIError):
        return None
    for error in _chain(exc):
        sqlstate = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
        if isinstance(sqlstate, str) and sqlstate.startswith(DATA_EXCEPTION_CLASS):
            return _first_line(error)
        if _is_client_encoding_error(error):
            return _first_line(error)
    return None


def _first_line(error: Any) -> str:
    text = str(error).strip()
    # SQLAlchemy's adapted errors read "<class 'asyncpg...DataError'>: message"; keep the message.
    if text.startswith("<class ") and ">: " in text:
        text = text.split(">: ", 1)[1]
    return text.splitlines()[0] if text else type(error).__name__


def nul_fields(query: Iterable[tuple[str, str]], path_params: Mapping[str, Any]) -> list[str]:
    """Query and path parameters holding a NUL character: the likely culprits, named in the answer."""
    names = [name for name, value in query if "\x00" in name or "\x00" in value]
    names += [name for name, value in path_params.items() if "\x00" in str(value)]
    return sorted(set(names))


def log_rejected(path: str, reason: str) -> None:
    """Record a refused value (a warning: worth noticing, as validation could name the field)."""
    log.warning("input refused by the database", path=path, reason=reason)
