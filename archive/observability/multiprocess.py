"""Several processes, one answer: prometheus_client's multiprocess mode.

With `PROMETHEUS_MULTIPROC_DIR` set, each process writes its counts to files of its own in that
directory, and whoever answers a scrape reads them all and adds them up. `archive serve` with
several server processes sets it (a fresh directory, or the one the operator named, emptied at
start); Celery workers are given one by their deployment ([observability.md]).

Without it, a process answers with its own counts: one server, or a test.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    REGISTRY,
    CollectorRegistry,
    Metric,
    generate_latest,
    multiprocess,
    start_http_server,
    values,
)
from prometheus_client.registry import Collector

from archive.observability.metrics import FAMILIES, known_series

ENV = "PROMETHEUS_MULTIPROC_DIR"
# The text format `generate_latest` writes, as prometheus_client's own server names it; the
# charset (UTF-8) is left to the framework that sends it.
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4.removesuffix("; charset=utf-8")


def directory() -> Path | None:
    """The directory the processes share, when in multiprocess mode."""
    named = os.environ.get(ENV)
    return Path(named) if named else None


def use_directory(path: Path, *, clean: bool) -> Path:
    """Count into `path` from now on, in this process and the processes it starts.

    `clean`: remove what processes of an earlier run left there; done by the one process that
    starts the others, before it starts them, never by one of them.
    """
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if clean:
        for stale in path.glob("*.db"):
            stale.unlink(missing_ok=True)
    os.environ[ENV] = str(path)
    # prometheus_client chose how to keep values when it was imported, before this process
    # knew it would start others. Series are created on first use (all of ours are labelled):
    # the ones this process made so far are dropped, and from now on they are files there.
    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]
    for family in FAMILIES:
        family.clear()
    known_series()
    return path


def process_ended(pid: int) -> None:
    """Tell the shared directory that process `pid` is gone (its live gauges go with it)."""
    if directory() is not None:
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


class Combined:
    """One collector of several: this process's metrics and, for the process answering
    scrapes, the database's gauges."""

    def __init__(self, collectors: Iterable[Collector]) -> None:
        self.collectors = list(collectors)

    def collect(self) -> Iterator[Metric]:
        for collector in self.collectors:
            yield from collector.collect()


def process_metrics() -> Collector:
    """The processes' own metrics: every process's files in multiprocess mode (summed, so each
    is read once however many processes wrote it), else this process's registry."""
    if directory() is None:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry


def exposition(*extra: Collector) -> bytes:
    """The text format of the processes' metrics and of `extra` collectors."""
    return generate_latest(Combined([process_metrics(), *extra]))


def serve_port(port: int, address: str = "0.0.0.0", *extra: Collector) -> None:  # noqa: S104
    """Answer scrapes on a port of its own, on a thread of this process (a Celery worker's)."""
    start_http_server(port, address, registry=Combined([process_metrics(), *extra]))
