"""Why a connector's message was not stored, and whether a later try may store it: the one
classification the SMTP endpoint answers by and the IMAP and recording connectors move on by.

The reason kept (on the connectors' page, in the database, in the log) never quotes a
library's own message: an S3 error names the object key, a connection error the URL (with
a listing's start-after key), an OS error the file's path, and a recording's key or path
holds the caller's number. Only the kind of fault is kept.
"""

from __future__ import annotations

import traceback

import structlog
from minio.error import S3Error
from sqlalchemy.exc import DataError, DBAPIError, OperationalError

from archive.connectors.activity import Outcome
from archive.errors import (
    ContentMissing,
    IntegrityFailure,
    InvalidInput,
    KeyUnavailable,
    PayloadTooLarge,
    StorageError,
)

log = structlog.get_logger(__name__)

# What a later try may not meet again: the store, the keys or the database not answering.
UNAVAILABLE_ERRORS = (
    StorageError,
    KeyUnavailable,
    IntegrityFailure,
    ContentMissing,
    OperationalError,
    DBAPIError,
)


def reason_of(error: BaseException) -> str:
    """What went wrong, in words that name no message, file, key or address."""
    if isinstance(error, InvalidInput | PayloadTooLarge):
        return error.public_detail  # the archive's own words, as the API answers them
    if isinstance(error, DataError):
        return "the message holds a value the database cannot store"
    cause = error.__cause__ or error.__context__
    if isinstance(error, StorageError | KeyUnavailable) and cause is not None:
        return f"{type(error).__name__} ({reason_of(cause)})"
    return _kind_of(error)


def _kind_of(error: BaseException) -> str:
    """A library's fault by its kind and code alone."""
    if isinstance(error, DBAPIError):
        driver = error.orig
        state = getattr(driver, "sqlstate", None)
        return f"database: {type(driver).__name__}" + (f" (SQLSTATE {state})" if state else "")
    if isinstance(error, S3Error):
        return f"object store: {error.code}"
    if isinstance(error, OSError):
        return f"{type(error).__name__}: {error.strerror or 'no detail'}"
    return type(error).__name__


def outcome_of(error: Exception) -> Outcome:
    """REFUSED for a message no later try would store (too large, not an e-mail, a value the
    database will not take), DEFERRED for the rest; logs why it was not stored."""
    if isinstance(error, PayloadTooLarge | InvalidInput):
        return Outcome.REFUSED
    if isinstance(error, DataError):
        # A value every check let through and the database refused (PostgreSQL takes no NUL
        # in text): trying again would meet the same refusal.
        log.warning("message refused by the database")
        return Outcome.REFUSED
    if isinstance(error, UNAVAILABLE_ERRORS):
        log.error("message not stored: unavailable", reason=reason_of(error))
        return Outcome.DEFERRED
    # Whatever else went wrong, the message is not stored: it is left where it waits (a
    # sender's queue, a mailbox, a folder) until the fault is found and mended. Where it
    # happened is logged, without the exception's text, which may quote a name.
    log.error(
        "message not stored: unexpected error",
        reason=reason_of(error),
        where=traceback.format_tb(error.__traceback__)[-3:],
    )
    return Outcome.DEFERRED
