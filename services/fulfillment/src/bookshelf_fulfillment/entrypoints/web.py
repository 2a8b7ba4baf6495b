"""The web view on port 8006 (faust's aiohttp server): fulfillments, health, readiness, metrics.

``GET /fulfillments/{order_id}`` is routed to the worker that owns the order's partition (faust's
router, like ``@app.table_route``, but on the canonical key). ``GET /fulfillments`` lists the
instances of *this* worker only: with several workers each lists its own partitions.

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
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

import orjson
from aiohttp import web as aioweb
from faust.exceptions import SameNode
from faust.web import Request, Response, View
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bookshelf_fulfillment.domain.state import SagaState, SagaStatus

if TYPE_CHECKING:
    from bookshelf_fulfillment.entrypoints.worker import SagaWorker

CORRELATION_HEADER = "X-Correlation-ID"
PROBLEM_JSON = "application/problem+json"
DEFAULT_LIMIT, MAX_LIMIT = 20, 100

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
    """An ``application/problem+json`` answer (RFC 9457, API.md conventions)."""
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


def render(instance: SagaState) -> dict[str, Any]:
    """The API.md shape ``{order_id, state, deadline, history: [{event, at, action}]}`` plus facts."""
    return {
        "order_id": str(instance.order_id),
        "state": instance.state.value,
        "deadline": instance.deadline,
        "history": [
            {"event": e.event, "at": e.at, "action": e.action, "message_id": e.message_id}
            for e in instance.history
        ],
        "correlation_id": instance.correlation_id,
        "reserved": instance.reserved,
        "shipment_id": str(instance.shipment_id) if instance.shipment_id else None,
        "tracking_number": instance.tracking_number,
        "cancel_reason": instance.cancel_reason,
        "created_at": instance.created_at,
        "updated_at": instance.updated_at,
    }


def json_response(view: View, body: Any, status: int = 200) -> Response:
    """JSON with times as ISO-8601 ``Z``."""
    return view.bytes(
        orjson.dumps(body, option=orjson.OPT_UTC_Z), content_type="application/json", status=status
    )


def _int_param(request: Request, name: str, default: int, low: int, high: int | None) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    value = int(raw)  # ValueError answered as 422 by the caller
    if value < low or (high is not None and value > high):
        raise ValueError(f"{name} must be between {low} and {high}" if high else f"{name} must be >= {low}")
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


class WorkerView(View):
    """A view of the saga worker it was registered for (``worker`` is set by ``register_views``)."""

    worker: ClassVar[SagaWorker]
    staff_token: ClassVar[str] = ""


class Fulfillment(WorkerView):
    """One saga instance, from the worker that owns it."""

    async def get(self, request: Request, order_id: str) -> Response:
        """``GET /fulfillments/{order_id}`` (STAFF): 200 instance, 401, 404 problem, 422 when not a UUID."""
        if (refused := unauthorized(self, request)) is not None:
            return refused
        try:
            key = str(UUID(order_id))
        except ValueError:
            return problem(self, request, 422, f"order_id {order_id!r} is not a UUID", "order_id")
        try:  # what @app.table_route does, on the canonical key
            return await self.worker.app.router.route_req(self.worker.table.name, key, self.web, request)
        except SameNode:
            pass
        instance = self.worker.store.get(key)
        if instance is None:
            return problem(self, request, 404, f"no fulfillment for order {key}")
        return json_response(self, render(instance))


class Fulfillments(WorkerView):
    """The instances this worker holds."""

    async def get(self, request: Request) -> Response:
        """``GET /fulfillments?state=&limit=&offset=`` (STAFF): the paging envelope, newest first."""
        if (refused := unauthorized(self, request)) is not None:
            return refused
        raw_state = request.query.get("state")
        try:
            state = SagaStatus(raw_state) if raw_state else None
        except ValueError:
            known = ", ".join(s.value for s in SagaStatus)
            return problem(self, request, 422, f"state must be one of {known}", "state")
        try:
            limit = _int_param(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
            offset = _int_param(request, "offset", 0, 0, None)
        except ValueError as exc:
            return problem(self, request, 422, f"invalid paging: {exc}")
        return json_response(self, page(self.worker, state, limit, offset))


class Health(WorkerView):
    """Alive: the process answers."""

    async def get(self, request: Request) -> Response:
        """``GET /healthz``: 200 while the process runs."""
        return json_response(self, {"status": "ok"})


class Ready(WorkerView):
    """Ready: table recovered, not rebalancing, not stopping."""

    async def get(self, request: Request) -> Response:
        """``GET /readyz``: 200 when ready, else 503 with what is missing."""
        worker = self.worker
        ready = worker.ready
        body = {
            "status": "ready" if ready else "not ready",
            "recovered": worker.recovered,
            "rebalancing": worker.app.rebalancing,
            "assigned_partitions": len(worker.app.consumer.assignment()) if worker.app.started else 0,
        }
        return json_response(self, body, status=200 if ready else 503)


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


def page(worker: SagaWorker, state: SagaStatus | None, limit: int, offset: int) -> dict[str, Any]:
    """One page of this worker's instances (optionally in ``state``), newest first."""
    instances = [i for _, i in worker.store.items() if state is None or i.state is state]
    instances.sort(key=lambda i: i.created_at, reverse=True)
    entries = [render(i) for i in instances[offset : offset + limit]]
    total = len(instances)
    return {
        "entries": entries,
        "total": total,
        "limit": limit,
        "offset": offset,
        "page": offset // limit + 1,
        "total_pages": (total + limit - 1) // limit,
        "has_next": offset + len(entries) < total,
        "has_prev": offset > 0,
    }
