"""OpenTelemetry tracing, on when `OTEL_EXPORTER_OTLP_ENDPOINT` is set and off otherwise.

Off, nothing of the SDK is imported or set up, and no request or query pays for it. On, spans
go to the OTLP/HTTP endpoint in batches; the exporter reads the standard `OTEL_*` variables
(endpoint, headers, timeout), and `OTEL_SERVICE_NAME` names the service if set.

Span names and attributes never carry ids or content: the server's spans are named by route
template (`archive.api.tracing`), SQL spans carry the statement with its parameters left out,
and task spans the task's name.
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from sqlalchemy.engine import Engine

ENDPOINT_VARIABLE = "OTEL_EXPORTER_OTLP_ENDPOINT"
_providers: dict[tuple[str, str], TracerProvider] = {}
_lock = threading.Lock()
_traced: weakref.WeakSet[Engine] = weakref.WeakSet()


def tracing_endpoint() -> str | None:
    """Where spans go; None: tracing is off."""
    return os.environ.get(ENDPOINT_VARIABLE, "").strip() or None


def tracer_provider(service: str) -> TracerProvider | None:
    """The process's provider for `service`, made on first use; None when tracing is off.

    One per endpoint and service, so a process (or a test) that changes the endpoint gets a
    provider that sends there.
    """
    endpoint = tracing_endpoint()
    if endpoint is None:
        return None
    with _lock:
        found = _providers.get((endpoint, service))
        if found is None:
            found = _providers[(endpoint, service)] = _new_provider(service)
        return found


def stop_tracing() -> None:
    """Send what spans are left and stop every provider of this process."""
    with _lock:
        stopping = list(_providers.values())
        _providers.clear()
    for provider in stopping:
        provider.shutdown()


def _new_provider(service: str) -> TracerProvider:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    name = os.environ.get("OTEL_SERVICE_NAME") or service
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: name}))
    # The exporter appends /v1/traces to OTEL_EXPORTER_OTLP_ENDPOINT itself.
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


def trace_engine(engine: Engine, provider: TracerProvider) -> None:
    """Spans for every statement `engine` runs, under whatever span is current."""
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
    from opentelemetry.instrumentation.sqlalchemy.version import __version__
    from opentelemetry.metrics import NoOpMeter

    if engine in _traced:
        return
    _traced.add(engine)
    tracer = provider.get_tracer("opentelemetry.instrumentation.sqlalchemy", __version__)
    # Tracing only: metrics are Prometheus's (the counter goes nowhere).
    usage = NoOpMeter("archive").create_up_down_counter("db.client.connections.usage")
    EngineTracer(tracer, engine, usage, enable_commenter=False)  # type: ignore[no-untyped-call]
