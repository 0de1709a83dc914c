"""OpenTelemetry tracing across services through Kafka headers (FastStream's middleware).

Every log line carries a trace id and every event the trace context, exported or not. Spans are
recorded and exported over OTLP only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set; otherwise they
are left unrecorded (ids only), which costs a third of a recorded span: recorded spans that
nobody exported were 7 % of notify's profile flat out (docs/BENCHMARKS.md).
`OTEL_TRACES_SAMPLER`, when set, decides instead.
"""

from __future__ import annotations

import logging
import os

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON, Sampler


def sampler() -> Sampler | None:
    """Record every span where they are exported (whatever an upstream service that does not
    export put in the trace flags), none where they are not; the SDK's own choice (None) when
    `OTEL_TRACES_SAMPLER` names one."""
    if os.environ.get("OTEL_TRACES_SAMPLER"):
        return None
    return ALWAYS_ON if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") else ALWAYS_OFF


def tracer_provider(service: str) -> TracerProvider:
    provider = TracerProvider(resource=Resource.create({"service.name": f"oncoroute-{service}"}),
                              sampler=sampler())
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


class TraceIdFilter(logging.Filter):
    """Stamp the current trace id on every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        ctx = trace.get_current_span().get_span_context()
        if ctx.is_valid and not hasattr(record, "trace_id"):
            record.trace_id = format(ctx.trace_id, "032x")
        return True
