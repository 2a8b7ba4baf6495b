"""Exception handlers that answer every error as problem+json, and errors every service shares."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bookshelf_messaging.errors import MessageTooLarge
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from bookshelf_servicekit.data_errors import log_rejected, nul_fields, rejected_input_reason
from bookshelf_servicekit.middleware import correlation_id_of
from bookshelf_servicekit.problems import ProblemRegistry, ProblemSpec, field_errors, problem, problem_type

_LOCATIONS = frozenset(("body", "query", "path", "header", "cookie"))
_PREFIXES = ("Value error, ", "Assertion failed, ")


class NotFound(Exception):
    """A resource that does not exist (404)."""


class Conflict(Exception):
    """A request that conflicts with the current state (409)."""


class InvalidInput(Exception):
    """Input that passed parsing but breaks a rule (422); ``errors`` names the fields."""

    def __init__(self, message: str, errors: Sequence[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.errors = list(errors or [])


def default_registry() -> ProblemRegistry:
    """A registry that knows the shared errors (not found, conflict, input, auth, idempotency, and an
    event too large to publish: 413, its detail naming the limit)."""
    from bookshelf_servicekit.auth import Unauthorized
    from bookshelf_servicekit.idempotency import IdempotencyKeyReused, InvalidIdempotencyKey

    return ProblemRegistry(
        {
            NotFound: 404,
            Conflict: 409,
            InvalidInput: 422,
            Unauthorized: 401,
            IdempotencyKeyReused: 409,
            InvalidIdempotencyKey: ProblemSpec(422, "Invalid input", problem_type("validation-error")),
            # The same type and title as a body over its limit (BodyLimitMiddleware).
            MessageTooLarge: ProblemSpec(
                413, "Request Entity Too Large", problem_type("request-entity-too-large")
            ),
        }
    )


def field_name(loc: Sequence[Any]) -> str:
    """``("body", "price", "amount")`` -> ``price.amount``; list indexes become ``tags[3]``."""
    parts = list(loc)
    if parts and parts[0] in _LOCATIONS and len(parts) > 1 and isinstance(parts[1], str):
        parts = parts[1:]  # ("body", "price") -> price; ("body", 12) (JSON syntax error at 12) stays body
    name = ""
    for part in parts:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += f".{part}" if name else str(part)
    return name or "body"


def _message(error: dict[str, Any]) -> str:
    text = str(error.get("msg", "invalid value"))
    for prefix in _PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix) :]
    return text


def validation_errors(errors: Sequence[Any]) -> list[dict[str, str]]:
    """pydantic/FastAPI error dicts -> problem ``errors`` entries naming each field."""
    return [{"field": field_name(e.get("loc", ())), "message": _message(e)} for e in errors]


def install_exception_handlers(app: FastAPI, registry: ProblemRegistry) -> None:
    """Answer validation errors, HTTP errors, input the database refuses (422) and every registered
    domain exception as problem+json."""

    async def on_validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = validation_errors(exc.errors())
        fields = ", ".join(sorted({e["field"] for e in errors}))
        return problem(
            422,
            title="Invalid input",
            type_=problem_type("validation-error"),
            detail=f"invalid input: {fields}",
            errors=errors,
            correlation_id=correlation_id_of(request.scope),
        )

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else None
        return problem(
            exc.status_code,
            detail=detail,
            correlation_id=correlation_id_of(request.scope),
            headers=exc.headers,
        )

    async def on_domain_error(request: Request, exc: Exception) -> Response:
        spec = registry.lookup(exc)
        if spec is None:  # pragma: no cover - only registered types are routed here
            raise exc
        return problem(
            spec.status,
            title=spec.title,
            type_=spec.type,
            detail=str(exc) or spec.title,
            errors=field_errors(getattr(exc, "errors", None)),
            correlation_id=correlation_id_of(request.scope),
            headers=getattr(exc, "headers", None),
        )

    async def on_database_error(request: Request, exc: Exception) -> Response:
        reason = rejected_input_reason(exc)
        if reason is None:
            raise exc  # not the client's input: the context middleware answers 500 and logs it
        log_rejected(request.url.path, reason)
        fields = nul_fields(request.query_params.multi_items(), request.path_params) or ["request"]
        return problem(
            422,
            title="Invalid input",
            type_=problem_type("validation-error"),
            detail=f"a value of the request cannot be stored or compared: {reason}",
            errors=[{"field": field, "message": reason} for field in fields],
            correlation_id=correlation_id_of(request.scope),
        )

    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(DBAPIError, on_database_error)
    for exc_type in registry.types():
        app.add_exception_handler(exc_type, on_domain_error)
