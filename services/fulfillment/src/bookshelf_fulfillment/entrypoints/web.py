"""The web view on port 8006 (faust's aiohttp server): fulfillments, health, readiness, metrics.

Instances live in PostgreSQL, so every worker answers for every order: ``GET /fulfillments/{id}``
and ``GET /fulfillments`` read the tables directly (filters ``state`` and ``deadline_before``,
paging ``limit`` and ``offset``), whichever worker the request reaches.

The fulfillment views show order and shipment ids of every customer, so they are STAFF:
``Authorization: Bearer <BOOKSHELF_ADMIN_TOKEN>`` (constant-time comparison), else a 401 problem.
The token follows the services' rules (``BOOKSHELF_ENV`` defaults to prod; ``dev-admin-token`` only
in dev; outside dev it must be set, not the dev value, and at least 32 characters, or the worker
refuses to start). ``/healthz``, ``/readyz`` and ``/metrics`` stay open for probes and Prometheus.
"""

from __future__ import annotations

import hmac
import os
import sys
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

import orjson
from aiohttp import web as aioweb
from bookshelf_messaging import is_infrastructure_error
from faust.web import Request, Response, View
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bookshelf_fulfillment.adapters import queries
from bookshelf_fulfillment.domain.state import SagaStatus

if TYPE_CHECKING:
    from bookshelf_fulfillment.entrypoints.worker import SagaWorker

CORRELATION_HEADER = "X-Correlation-ID"
PROBLEM_JSON = "application/problem+json"
DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET = 20, 100, 10**12

DEV_ADMIN_TOKEN = "dev-admin-token"
# Variables the web view reads itself (besides FulfillmentSettings); tests/deploy checks they are wired.
READS_ENVIRONMENT = ("BOOKSHELF_ENV", "BOOKSHELF_ADMIN_TOKEN")
MIN_TOKEN_LENGTH = 32

Handler = Callable[[aioweb.Request], Awaitable[aioweb.StreamResponse]]


@aioweb.middleware
async def correlation_middleware(request: aioweb.Request, handler: Handler) -> aioweb.StreamResponse:
    """Take ``X-Correlation-ID`` (<= 200 chars) or make one; every response carries it."""
    given = request.headers.get(CORRELATION_HEADER, "")
    correlation_id = given if 0 < len(given) <= 200 else str(uuid.uuid4())
    request["correlation_id"] = correlation_id
    response = await handler(request)
    response.headers[CORRELATION_HEADER] = correlation_id
    return response


def problem(view: View, request: Request, status: int, detail: str, field: str | None = None) -> Response:
    """An ``application/problem+json`` answer (RFC 9457, docs/reference/http.md conventions)."""
    phrase = HTTPStatus(status).phrase
    body: dict[str, Any] = {
        "type": f"https://bookshelf.dev/problems/{phrase.lower().replace(' ', '-')}",
        "title": phrase,
        "status": status,
        "detail": detail,
    }
    if field is not None:
        body["errors"] = [{"field": field, "message": detail}]
    body["correlation_id"] = request.get("correlation_id")  # type: ignore[attr-defined]
    return view.bytes(orjson.dumps(body), content_type=PROBLEM_JSON, status=status)


def json_response(view: View, body: Any, status: int = 200) -> Response:
    """JSON with times as ISO-8601 ``Z``."""
    return view.bytes(
        orjson.dumps(body, option=orjson.OPT_UTC_Z), content_type="application/json", status=status
    )


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    value = int(raw)  # ValueError answered as 422 by the caller
    if value < low or value > high:
        raise ValueError(f"{name} must be between {low} and {high}")
    return value


class StaffTokenRefused(ValueError):
    """Outside dev mode the staff token is missing, the dev value or too short."""


def staff_token(environ: Mapping[str, str] | None = None) -> str:
    """``BOOKSHELF_ADMIN_TOKEN`` by the services' rules (dev default only with ``BOOKSHELF_ENV=dev``)."""
    environ = os.environ if environ is None else environ
    mode = environ.get("BOOKSHELF_ENV", "prod")
    token = environ.get("BOOKSHELF_ADMIN_TOKEN", "")
    if mode == "dev":
        return token or DEV_ADMIN_TOKEN
    if not token:
        raise StaffTokenRefused(f"BOOKSHELF_ADMIN_TOKEN is not set; BOOKSHELF_ENV={mode} needs a real secret")
    if token == DEV_ADMIN_TOKEN:
        raise StaffTokenRefused(f"BOOKSHELF_ADMIN_TOKEN still has its dev value; BOOKSHELF_ENV={mode}")
    if len(token) < MIN_TOKEN_LENGTH:
        raise StaffTokenRefused(
            f"BOOKSHELF_ADMIN_TOKEN is {len(token)} characters long; BOOKSHELF_ENV={mode} needs at least "
            f"{MIN_TOKEN_LENGTH}"
        )
    return token


def unauthorized(view: View, request: Request) -> Response | None:
    """None when the request carries the staff token, else the 401 problem to answer."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    expected = getattr(view, "staff_token", "")
    if (
        scheme.lower() == "bearer"
        and expected
        and hmac.compare_digest(token.strip().encode(), expected.encode())
    ):
        return None
    answer = problem(view, request, 401, "staff endpoint: send Authorization: Bearer <BOOKSHELF_ADMIN_TOKEN>")
    answer.headers["WWW-Authenticate"] = "Bearer"
    return answer


def _time_param(request: Request, name: str) -> datetime | None:
    """An ISO-8601 time (``Z`` or an offset; none means UTC); ValueError when unreadable."""
    raw = request.query.get(name)
    if not raw:
        return None
    moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class WorkerView(View):
    """A view of the saga worker it was registered for (``worker`` is set by ``register_views``)."""

    worker: ClassVar[SagaWorker]
    staff_token: ClassVar[str] = ""

    async def read(self, request: Request, query: Callable[[Any], Awaitable[Any]]) -> Any:
        """Run ``query(session)``; a lost database raises ``Unavailable`` (answered 503, not 500)."""
        try:
            async with self.worker.sessions() as session:
                return await query(session)
        except Exception as exc:
            if is_infrastructure_error(exc) or isinstance(exc, OSError | TimeoutError):
                raise Unavailable(problem(self, request, 503, f"the database is unreachable: {exc}")) from exc
            raise


class Unavailable(Exception):
    """The answer to give when the database cannot be reached."""

    def __init__(self, response: Response) -> None:
        super().__init__("unavailable")
        self.response = response


class Fulfillment(WorkerView):
    """One saga instance."""

    async def get(self, request: Request, order_id: str) -> Response:
        """``GET /fulfillments/{order_id}`` (STAFF): 200 instance, 401, 404 problem, 422 when not a UUID."""
        if (refused := unauthorized(self, request)) is not None:
            return refused
        try:
            key = UUID(order_id)
        except ValueError:
            return problem(self, request, 422, f"order_id {order_id!r} is not a UUID", "order_id")
        try:
            instance = await self.read(request, lambda session: queries.one(session, key))
        except Unavailable as down:
            return down.response
        if instance is None:
            return problem(self, request, 404, f"no fulfillment for order {key}")
        return json_response(self, instance)


class Fulfillments(WorkerView):
    """Every saga instance, filtered and paged."""

    async def get(self, request: Request) -> Response:
        """``GET /fulfillments?state=&deadline_before=&limit=&offset=`` (STAFF): the list envelope,
        newest first."""
        if (refused := unauthorized(self, request)) is not None:
            return refused
        raw_state = request.query.get("state")
        try:
            state = SagaStatus(raw_state) if raw_state else None
        except ValueError:
            known = ", ".join(s.value for s in SagaStatus)
            return problem(self, request, 422, f"state must be one of {known}", "state")
        try:
            deadline_before = _time_param(request, "deadline_before")
        except ValueError:
            return problem(self, request, 422, "deadline_before must be an ISO-8601 time", "deadline_before")
        try:
            limit = _int_param(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
            offset = _int_param(request, "offset", 0, 0, MAX_OFFSET)
        except ValueError as exc:
            return problem(self, request, 422, f"invalid paging: {exc}")
        try:
            body = await self.read(
                request,
                lambda session: queries.page(
                    session, state=state, deadline_before=deadline_before, limit=limit, offset=offset
                ),
            )
        except Unavailable as down:
            return down.response
        return json_response(self, body)


class Health(WorkerView):
    """Alive: the process answers."""

    async def get(self, request: Request) -> Response:
        """``GET /healthz``: 200 while the process runs."""
        return json_response(self, {"status": "ok"})


class Ready(WorkerView):
    """Ready: consuming (not rebalancing or stopping), database reachable, relay running."""

    async def get(self, request: Request) -> Response:
        """``GET /readyz``: 200 when ready, else 503 with what is missing."""
        body = await self.worker.readiness()
        return json_response(self, body, status=200 if body["status"] == "ready" else 503)


class Metrics(WorkerView):
    """Prometheus text format."""

    async def get(self, request: Request) -> Response:
        """``GET /metrics``."""
        return self.bytes(generate_latest(), content_type=CONTENT_TYPE_LATEST.split(";")[0])


ROUTES: tuple[tuple[str, type[WorkerView]], ...] = (
    ("/fulfillments/{order_id}", Fulfillment),
    ("/fulfillments", Fulfillments),
    ("/healthz", Health),
    ("/readyz", Ready),
    ("/metrics", Metrics),
)


def register_views(worker: SagaWorker, environ: Mapping[str, str] | None = None) -> None:
    """Add the fulfillment, health, readiness and metrics views to the worker's app.

    Outside dev mode without a proper staff token the process stops here (exit status 2).
    """
    try:
        token = staff_token(environ)
    except StaffTokenRefused as exc:
        sys.stderr.write(f"fulfillment: refusing to start: {exc}\n")
        raise SystemExit(2) from exc
    for path, view in ROUTES:
        attributes = {"worker": worker, "staff_token": token, "__doc__": view.__doc__}
        bound = type(view.__name__, (view,), attributes)
        worker.app.page(path, name=view.__name__)(bound)
