"""Tracing in each worker process, when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (off otherwise).

Connected to `worker_process_init`, so every process of the pool sets up its own provider and
exporter (a provider's exporting thread does not survive the fork). Task spans are named by
the task's name, and SQL spans by statement, never by an argument.
"""

from __future__ import annotations

from typing import Any

from celery.signals import worker_process_init

from archive.tracing import trace_engine, tracer_provider

SERVICE = "archive-worker"


def start_tracing() -> bool:
    """Turn tracing on for this process if an endpoint is set; whether it is on."""
    provider = tracer_provider(SERVICE)
    if provider is None:
        return False
    from opentelemetry import trace
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from sqlalchemy import event
    from sqlalchemy.engine import Connection, Engine

    trace.set_tracer_provider(provider)
    CeleryInstrumentor().instrument(tracer_provider=provider)  # type: ignore[no-untyped-call]

    # The worker builds its runtime, and its engine, on its first task: each engine is traced
    # from its first connection on.
    def traced(connection: Connection) -> None:
        trace_engine(connection.engine, provider)

    event.listen(Engine, "engine_connect", traced)
    return True


@worker_process_init.connect(weak=False)
def _on_worker_process_init(**_: Any) -> None:
    start_tracing()
