"""Why a connector's message was not stored, and whether a later try may store it: the one
classification the SMTP endpoint answers by and the IMAP connector moves on by."""

from __future__ import annotations

import structlog
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
        # The driver's own message, not SQLAlchemy's, which appends the statement's values.
        detail = str(getattr(error, "orig", None) or error)
        log.error("message not stored: unavailable", error_type=type(error).__name__, detail=detail)
        return Outcome.DEFERRED
    # Whatever else went wrong, the message is not stored: it is left where it waits (a
    # sender's queue, a mailbox) until the fault is found and mended.
    log.error(
        "message not stored: unexpected error", error_type=type(error).__name__, exc_info=error
    )
    return Outcome.DEFERRED
