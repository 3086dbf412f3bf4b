"""Structured logging: console text on a laptop, JSON lines in production; never personal data.

Two kinds of logger render through the same processors: structlog's own (`get_logger`), which
most of the archive uses, and the standard library's under `archive` (the access log,
`archive.access`, among them), which an operator can tune by name like any Python logger.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog

ACCESS_LOGGER = "archive.access"
_ROOT = "archive"


class _StandardOutput(logging.StreamHandler):  # type: ignore[type-arg]
    """A handler that writes to whatever `sys.stdout` is when a line is written, not the one it
    was made with, which may since have been replaced and closed (a test's capture)."""

    @property
    def stream(self) -> TextIO:
        return sys.stdout

    @stream.setter
    def stream(self, _: object) -> None:
        return None


def configure_logging(level: str = "INFO", *, json: bool = False) -> None:
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if json
        # Plain tracebacks: the fancy ones print local variables, which may hold personal data.
        else structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )
    )
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    numeric = logging.getLevelName(level.upper())
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        cache_logger_on_first_use=True,
    )
    # The standard library's `archive` loggers: one handler of this module's, replaced when
    # the logging is configured again (each server process, each test's app).
    handler = _StandardOutput()
    handler.set_name(__name__)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        )
    )
    root = logging.getLogger(_ROOT)
    for old in [h for h in root.handlers if h.get_name() == __name__]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)
    root.propagate = False


def access_logger() -> structlog.stdlib.BoundLogger:
    """The access log's logger: a standard one named `archive.access`, so its level can be set
    apart from the rest; each line goes through the processors `configure_logging` set."""
    return structlog.wrap_logger(  # type: ignore[no-any-return]
        logging.getLogger(ACCESS_LOGGER),
        wrapper_class=structlog.stdlib.BoundLogger,
        processors=[
            structlog.stdlib.filter_by_level,
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
    )
