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


class _Current(logging.StreamHandler):  # type: ignore[type-arg]
    """A handler that writes to whatever `sys.stdout` (or `sys.stderr`) is when a line is
    written, not the one it was made with, which may since have been replaced and closed (a
    test's capture)."""

    def __init__(self, which: str) -> None:
        self.which = which
        super().__init__()

    @property
    def stream(self) -> TextIO:
        return getattr(sys, self.which)  # type: ignore[no-any-return]

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
    formatter = structlog.stdlib.ProcessorFormatter(
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            # A traceback as text in a JSON line (a library's `exc_info=True`, an unretrieved
            # task's exception); the console renderer writes it itself.
            *([structlog.processors.format_exc_info] if json else []),
            renderer,
        ],
        foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
    )
    # The standard library's `archive` loggers: one handler of this module's, replaced when
    # the logging is configured again (each server process, each test's app).
    archive = logging.getLogger(_ROOT)
    _replace_handler(archive, _Current("stdout"), formatter)
    archive.setLevel(numeric)
    archive.propagate = False
    # Libraries' warnings and errors (the database driver's, the S3 client's, the HTTP
    # client's) in the same form, so that a JSON log stays JSON lines, on standard error as
    # Python writes them by default (a command's own output stays clean). Their INFO lines
    # stay out: they may quote URLs, and a query string may hold what the log must not.
    libraries = _Current("stderr")
    libraries.setLevel(max(numeric, logging.WARNING))
    _replace_handler(logging.getLogger(), libraries, formatter)


def _replace_handler(
    logger: logging.Logger, handler: logging.Handler, formatter: logging.Formatter
) -> None:
    """Put `handler` on `logger` in place of the one an earlier configuration put there."""
    handler.set_name(__name__)
    handler.setFormatter(formatter)
    for old in [h for h in logger.handlers if h.get_name() == __name__]:
        logger.removeHandler(old)
    logger.addHandler(handler)


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
