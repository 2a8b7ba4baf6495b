"""Pure ASGI middleware (no BaseHTTPMiddleware: no extra task or body copy per request).

- ``RequestContextMiddleware``: takes or creates the correlation id, binds it for the request
  (messaging context + structlog), echoes ``X-Correlation-ID`` on every response, records request
  metrics, and turns an unhandled exception into a 500 problem+json that still carries the header
  (503 with ``Retry-After`` when the exception says the database or broker is unavailable).
- ``BodyLimitMiddleware``: 413 problem+json for bodies over the limit of their path, checked on
  ``Content-Length`` first and on the streamed bytes otherwise.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import structlog
from bookshelf_messaging import context, is_infrastructure_error
from prometheus_client import Counter, Histogram
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bookshelf_servicekit.problems import CORRELATION_HEADER, problem

MAX_CORRELATION_ID_LENGTH = 200
RETRY_AFTER_S = 1  # what a 503 (database or broker unavailable) asks clients to wait
MIB = 1024 * 1024
DEFAULT_BODY_LIMIT = 1 * MIB
CORRELATION_SCOPE_KEY = "bookshelf.correlation_id"
_HEADER_LOWER = CORRELATION_HEADER.lower().encode()

log = structlog.get_logger("bookshelf.http")

HTTP_REQUESTS = Counter(
    "bookshelf_http_requests_total", "HTTP requests answered", ["service", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "bookshelf_http_request_duration_seconds",
    "HTTP request latency",
    ["service", "method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def correlation_id_of(scope: Scope) -> str | None:
    """The correlation id the middleware assigned to this request."""
    value = scope.get(CORRELATION_SCOPE_KEY)
    return value if isinstance(value, str) else None


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value)
    return None


class RequestContextMiddleware:
    """Correlation id in and out, request metrics, and a last-resort 500 problem+json."""

    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = _header(scope, _HEADER_LOWER)
        incoming = raw.decode("latin-1").strip() if raw is not None else ""
        if len(incoming) > MAX_CORRELATION_ID_LENGTH:
            await self._reject_correlation_id(scope, receive, send, len(incoming))
            return
        correlation_id = incoming or context.new_correlation_id()
        scope[CORRELATION_SCOPE_KEY] = correlation_id
        header = (_HEADER_LOWER, correlation_id.encode("latin-1"))
        status = 500
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                kept = [h for h in message.get("headers", ()) if h[0].lower() != _HEADER_LOWER]
                message["headers"] = [*kept, header]
            await send(message)

        begin = time.perf_counter()
        with (
            context.bind(correlation_id),
            structlog.contextvars.bound_contextvars(correlation_id=correlation_id),
        ):
            try:
                await self.app(scope, receive, send_with_id)
            except Exception as exc:
                if is_infrastructure_error(exc):
                    log.warning("dependency unavailable", path=scope.get("path"), error=repr(exc))
                else:
                    log.exception("unhandled error", path=scope.get("path"), method=scope.get("method"))
                if not started:
                    response = _unhandled_response(exc, correlation_id)
                    await response(scope, receive, send_with_id)
            finally:
                self._observe(scope, status, time.perf_counter() - begin)

    def _observe(self, scope: Scope, status: int, elapsed: float) -> None:
        route = scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        method = scope.get("method", "")
        HTTP_REQUESTS.labels(self.service, method, template, str(status)).inc()
        HTTP_LATENCY.labels(self.service, method, template).observe(elapsed)

    async def _reject_correlation_id(self, scope: Scope, receive: Receive, send: Send, length: int) -> None:
        generated = context.new_correlation_id()
        scope[CORRELATION_SCOPE_KEY] = generated
        response = problem(
            422,
            title="Invalid correlation id",
            detail=f"{CORRELATION_HEADER} must be at most {MAX_CORRELATION_ID_LENGTH} characters, got {length}",
            errors=[
                {
                    "field": CORRELATION_HEADER,
                    "message": f"at most {MAX_CORRELATION_ID_LENGTH} characters (got {length})",
                }
            ],
            correlation_id=generated,
        )
        await response(scope, receive, send)


def _unhandled_response(exc: Exception, correlation_id: str) -> ASGIApp:
    if isinstance(exc, HTTPException):  # e.g. a body limit hit outside FastAPI's body parsing
        return problem(exc.status_code, detail=str(exc.detail), correlation_id=correlation_id)
    if is_infrastructure_error(exc):  # the database (or broker) is down or restarting: honest 503
        return problem(
            503,
            detail="A dependency of this service (its database or broker) is unavailable; retry shortly",
            correlation_id=correlation_id,
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )
    return problem(
        500,
        detail="An unexpected error occurred; the correlation id identifies it in the logs",
        correlation_id=correlation_id,
    )


class RequestBodyTooLarge(HTTPException):
    """The request body exceeds the limit of its route (answered as 413 problem+json)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body exceeds the limit of {_human(limit)}")
        self.limit = limit


def _human(size: int) -> str:
    """``1 MiB`` for whole mebibytes, else the byte count with separators (``1,000,000 bytes``)."""
    return f"{size // MIB} MiB" if size % MIB == 0 else f"{size:,} bytes"


class BodyLimitMiddleware:
    """Rejects request bodies over ``default`` bytes, or over ``per_path[path]`` for listed paths."""

    def __init__(
        self, app: ASGIApp, *, default: int = DEFAULT_BODY_LIMIT, per_path: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.default = default
        self.per_path = dict(per_path or {})

    def limit_for(self, path: str) -> int:
        """The byte limit of a request path."""
        return self.per_path.get(path.rstrip("/") or "/", self.per_path.get(path, self.default))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            response = problem(
                413, detail=str(RequestBodyTooLarge(limit).detail), correlation_id=correlation_id_of(scope)
            )
            await response(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise RequestBodyTooLarge(limit)
            return message

        await self.app(scope, counting_receive, send)
