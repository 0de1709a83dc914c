"""Spans are recorded only where they are exported; trace ids travel and reach the logs either
way."""

from __future__ import annotations

import pytest
from opentelemetry import propagate, trace
from opentelemetry.sdk.trace import TracerProvider

from oncoroute_shared.tracing import sampler, tracer_provider

# a trace an upstream service started without recording it (flags 00)
UPSTREAM = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"


@pytest.fixture(autouse=True)
def _no_otel_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_TRACES_SAMPLER"):
        monkeypatch.delenv(name, raising=False)


def _child_of_upstream(provider: TracerProvider) -> trace.Span:
    parent = propagate.extract({"traceparent": UPSTREAM})
    return provider.get_tracer("test").start_span("cases process", context=parent)


def test_without_an_exporter_spans_are_not_recorded_but_carry_the_trace() -> None:
    provider = tracer_provider("notify")
    root = provider.get_tracer("test").start_span("case.submitted publish")
    assert not root.is_recording()
    assert root.get_span_context().is_valid  # a log line still gets a trace id

    child = _child_of_upstream(provider)
    assert not child.is_recording()
    assert format(child.get_span_context().trace_id, "032x") == UPSTREAM.split("-")[1]
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=trace.set_span_in_context(child))
    assert carrier["traceparent"].split("-")[1] == UPSTREAM.split("-")[1]


def test_with_an_exporter_every_span_is_recorded_even_under_an_unrecorded_parent(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    provider = TracerProvider(sampler=sampler())  # the exporter itself is not needed here
    child = _child_of_upstream(provider)
    assert child.is_recording()
    assert format(child.get_span_context().trace_id, "032x") == UPSTREAM.split("-")[1]


def test_an_explicit_sampler_setting_decides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "always_on")
    assert sampler() is None  # the SDK reads OTEL_TRACES_SAMPLER itself
    assert tracer_provider("intake").get_tracer("test").start_span("x").is_recording()
