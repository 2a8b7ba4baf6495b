"""OpenTelemetry traces of a Bookshelf process, exported over OTLP when an endpoint is configured.

``configure_tracing(service)`` does nothing (and imports nothing of the SDK) unless
``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` is set and
``OTEL_SDK_DISABLED`` is not ``true``. Then it installs the SDK's tracer provider with a batch span
processor and the OTLP/HTTP exporter, both configured by the standard ``OTEL_*`` variables
(``OTEL_SERVICE_NAME`` and ``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_EXPORTER_OTLP_HEADERS``,
``OTEL_BSP_SCHEDULE_DELAY``, ``OTEL_TRACES_SAMPLER``...), instruments asyncpg (every database call,
SQLAlchemy's included) and httpx, and turns on the messaging spans (``bookshelf_messaging.tracing``).
``instrument_app`` adds FastAPI's server spans, which continue an incoming ``traceparent``.

A database or HTTP client call outside any trace (the relay polling its outbox, the observatory
probing ``/metrics``) starts no trace of its own: the sampler drops CLIENT spans without a parent,
and ``/healthz``, ``/readyz`` and ``/metrics`` are not traced.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import structlog
from bookshelf_messaging import tracing

if TYPE_CHECKING:
    from fastapi import FastAPI
    from opentelemetry.sdk.trace import TracerProvider

log = structlog.get_logger("bookshelf.telemetry")

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
EXCLUDED_URLS = "/healthz,/readyz,/metrics"
_provider: TracerProvider | None = None


def tracing_requested(environ: dict[str, str] | None = None) -> bool:
    """Whether the environment asks for traces (an OTLP endpoint, and the SDK not disabled)."""
    env = os.environ if environ is None else environ
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return any(env.get(name, "").strip() for name in ENDPOINT_VARIABLES)


def configure_tracing(service: str) -> bool:
    """Install the SDK for ``service`` when the environment asks for it; whether it did."""
    global _provider
    if _provider is not None or not tracing_requested():
        return _provider is not None
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    # OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over the default name (Resource.create).
    resource = Resource.create({SERVICE_NAME: service} if "OTEL_SERVICE_NAME" not in os.environ else {})
    provider = TracerProvider(resource=resource, sampler=_sampler())
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    AsyncPGInstrumentor().instrument(tracer_provider=provider)  # type: ignore[no-untyped-call]
    HTTPXClientInstrumentor().instrument(tracer_provider=provider)
    tracing.enable(provider)
    _provider = provider
    log.info("telemetry.tracing_on", service=service)
    return True


def instrument_app(app: FastAPI) -> None:
    """Server spans for ``app`` (when tracing is configured), continuing an incoming ``traceparent``."""
    if _provider is None:
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(app, tracer_provider=_provider, excluded_urls=EXCLUDED_URLS)


def shutdown_tracing() -> None:
    """Export the spans still buffered (on a clean stop) and stop exporting."""
    global _provider
    if _provider is None:
        return
    provider, _provider = _provider, None
    tracing.disable()
    provider.shutdown()


def _sampler() -> Any:
    from opentelemetry.sdk.trace.sampling import (
        Decision,
        ParentBased,
        Sampler,
        SamplingResult,
        TraceIdRatioBased,
    )
    from opentelemetry.trace import SpanKind, get_current_span

    delegate: Sampler = _sampler_from_env() or ParentBased(TraceIdRatioBased(1.0))

    class NoOrphanClientSpans(Sampler):
        """The configured sampler, except that a CLIENT span without a parent is dropped."""

        def should_sample(
            self,
            parent_context: Any,
            trace_id: int,
            name: str,
            kind: SpanKind | None = None,
            attributes: Any = None,
            links: Sequence[Any] | None = None,
            trace_state: Any = None,
        ) -> SamplingResult:
            parent = get_current_span(parent_context).get_span_context()
            if kind is SpanKind.CLIENT and not parent.is_valid:
                return SamplingResult(Decision.DROP)
            return delegate.should_sample(
                parent_context, trace_id, name, kind, attributes, links, trace_state
            )

        def get_description(self) -> str:
            return f"NoOrphanClientSpans{{{delegate.get_description()}}}"

    return NoOrphanClientSpans()


def _sampler_from_env() -> Any:
    """The sampler ``OTEL_TRACES_SAMPLER`` names, or None when it names none."""
    if not os.environ.get("OTEL_TRACES_SAMPLER"):
        return None
    from opentelemetry.sdk.trace import sampling

    return sampling._get_from_env_or_default()
