"""When tracing switches on, and which spans the sampler keeps (no I/O)."""

from __future__ import annotations

import pytest
from bookshelf_servicekit import telemetry
from opentelemetry import trace
from opentelemetry.sdk.trace.sampling import Decision
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "  "}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_SDK_DISABLED": "true"}, False),
    ],
)
def test_tracing_is_requested_only_with_an_endpoint(environ: dict[str, str], expected: bool) -> None:
    assert telemetry.tracing_requested(environ) is expected


def test_without_an_endpoint_nothing_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in telemetry.ENDPOINT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert telemetry.configure_tracing("catalog") is False


def _parent() -> object:
    context = SpanContext(0x1234, 0x5678, is_remote=True, trace_flags=TraceFlags(TraceFlags.SAMPLED))
    return trace.set_span_in_context(NonRecordingSpan(context))


def test_the_sampler_drops_client_spans_outside_a_trace_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_TRACES_SAMPLER", raising=False)
    sampler = telemetry._sampler()
    orphan = sampler.should_sample(None, 1, "SELECT", SpanKind.CLIENT)
    child = sampler.should_sample(_parent(), 0x1234, "SELECT", SpanKind.CLIENT)
    server = sampler.should_sample(None, 1, "POST /orders", SpanKind.SERVER)
    assert orphan.decision is Decision.DROP
    assert child.decision is Decision.RECORD_AND_SAMPLE
    assert server.decision is Decision.RECORD_AND_SAMPLE


def test_the_sampler_named_by_the_environment_decides_the_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "always_off")
    sampler = telemetry._sampler()
    assert sampler.should_sample(None, 1, "POST /orders", SpanKind.SERVER).decision is Decision.DROP
