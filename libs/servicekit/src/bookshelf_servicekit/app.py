"""``create_app``: the FastAPI application every service starts from.

It wires the request-context middleware (correlation id, metrics, last-resort 500), body limits,
problem+json error handlers (validation, HTTP errors and the service's domain exceptions), the staff
token, orjson responses, the operational endpoints ``/healthz``, ``/readyz``, ``/metrics``, and
``/docs`` / ``/redoc`` served with their scripts from this process (no CDN: they work offline).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, FastAPI, Header, Request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from starlette.responses import Response

from bookshelf_servicekit.docs import install_docs
from bookshelf_servicekit.errors import default_registry, install_exception_handlers
from bookshelf_servicekit.health import Readiness
from bookshelf_servicekit.middleware import (
    DEFAULT_BODY_LIMIT,
    BodyLimitMiddleware,
    RequestContextMiddleware,
    correlation_id_of,
)
from bookshelf_servicekit.problems import CORRELATION_HEADER, ProblemSpec, problem
from bookshelf_servicekit.responses import OrjsonResponse
from bookshelf_servicekit.settings import ServiceSettings


async def correlation_header(
    _value: Annotated[
        str | None,
        Header(
            alias=CORRELATION_HEADER,
            description=(
                "at most 200 characters: the correlation id of everything this request causes "
                "(one is generated when missing); every response carries it"
            ),
        ),
    ] = None,
) -> None:
    """Declares ``X-Correlation-ID`` on every operation (the middleware reads and checks it)."""


MetricsHook = Callable[[], Awaitable[None]]
METRICS_HOOK_TIMEOUT_S = 2.0
log = structlog.get_logger("bookshelf.servicekit")

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[Any]]


def create_app(
    service: str,
    *,
    settings: ServiceSettings | None = None,
    admin_token: str | None = None,
    routers: Sequence[APIRouter] = (),
    problems: Mapping[type[Exception], int | ProblemSpec] | None = None,
    body_limit: int = DEFAULT_BODY_LIMIT,
    body_limits: Mapping[str, int] | None = None,
    readiness: Readiness | None = None,
    metrics_hooks: Sequence[MetricsHook] = (),
    lifespan: Lifespan | None = None,
    title: str | None = None,
    description: str = "",
    version: str = "0.1.0",
) -> FastAPI:
    """A FastAPI app for ``service`` with the shared plumbing installed.

    ``problems`` maps domain exception types to a status (or a ``ProblemSpec``); ``body_limits`` maps
    request paths to larger (or smaller) byte limits than ``body_limit``; ``readiness`` holds the
    checks behind ``/readyz`` (the runtime adds database, Kafka and runner checks per role);
    ``metrics_hooks`` refresh gauges read from the database just before ``/metrics`` answers (each
    bounded by ``METRICS_HOOK_TIMEOUT_S``; one that fails leaves its gauges as they were).
    """
    app = FastAPI(
        title=title or f"Bookshelf {service}",
        description=description,
        version=version,
        default_response_class=OrjsonResponse,
        lifespan=lifespan,
        dependencies=[Depends(correlation_header)],
        docs_url=None,  # served by install_docs, with local assets
        redoc_url=None,
    )
    token = admin_token or (settings.secret("admin_token") if settings is not None else None)
    app.state.service = service
    app.state.settings = settings
    app.state.admin_token = token
    app.state.readiness = readiness or Readiness()
    app.state.metrics_hooks = list(metrics_hooks)

    registry = default_registry()
    registry.update(problems or {})
    install_exception_handlers(app, registry)

    app.include_router(ops_router())
    install_docs(app)
    for router in routers:
        app.include_router(router)

    # Added last = outermost: the context middleware sees every response, including 413s.
    app.add_middleware(BodyLimitMiddleware, default=body_limit, per_path=body_limits)
    app.add_middleware(RequestContextMiddleware, service=service)
    return app


def readiness_of(app: FastAPI) -> Readiness:
    """The ``Readiness`` registry of an app made by ``create_app``."""
    readiness = app.state.readiness
    assert isinstance(readiness, Readiness)
    return readiness


def ops_router() -> APIRouter:
    """``/healthz``, ``/readyz`` and ``/metrics``."""
    router = APIRouter(tags=["operations"])

    @router.get("/healthz")
    async def healthz(request: Request) -> OrjsonResponse:
        """Liveness: the process answers HTTP."""
        return OrjsonResponse({"status": "ok", "service": request.app.state.service})

    @router.get("/readyz", responses={503: {"description": "a dependency is not ready (problem+json)"}})
    async def readyz(request: Request) -> Response:
        """Readiness: 200 when the database, Kafka and this role's runners are all fine, else 503."""
        results = await readiness_of(request.app).run()
        failing = {name: reason for name, reason in results.items() if reason != "ok"}
        if not failing:
            return OrjsonResponse({"status": "ready", "checks": results})
        return problem(
            503,
            title="Not ready",
            detail="not ready: " + "; ".join(f"{n}: {r}" for n, r in failing.items()),
            errors=[{"field": name, "message": reason} for name, reason in failing.items()],
            correlation_id=correlation_id_of(request.scope),
        )

    @router.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        """Prometheus metrics in the text exposition format."""
        for hook in getattr(request.app.state, "metrics_hooks", ()):
            try:
                await asyncio.wait_for(hook(), METRICS_HOOK_TIMEOUT_S)
            except Exception as exc:  # a metric that cannot be refreshed must not hide the others
                log.warning("metrics.hook_failed", hook=getattr(hook, "__name__", "?"), error=repr(exc))
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return router
