"""The archive's own exceptions; the API maps them to problem details in one place."""

from __future__ import annotations


class ArchiveError(Exception):
    """Base of every error the archive raises on purpose."""

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class InvalidInput(ArchiveError):
    """The caller sent something the archive cannot accept (HTTP 422 / 400)."""


class MalformedRequest(InvalidInput):
    """The request itself is unparseable: bad JSON, wrong content type (HTTP 400)."""


class UnreadableMedia(InvalidInput):
    """A recording or attachment whose format cannot be read (HTTP 422)."""


class IdempotencyKeyReused(InvalidInput):
    """An Idempotency-Key sent again with a different request or content (HTTP 422)."""


class PayloadTooLarge(ArchiveError):
    """A body above the configured limit (HTTP 413)."""


class NotFound(ArchiveError):
    """An id that does not exist, or that the caller may not know exists (HTTP 404)."""


class Forbidden(ArchiveError):
    """The caller's roles do not allow this particular request (HTTP 403)."""


class HoldActive(ArchiveError):
    """A hold keeps what the request would delete (HTTP 409)."""


class Conflict(ArchiveError):
    """The request contradicts stored state (HTTP 409)."""


class Gone(ArchiveError):
    """Something that existed and is no more: a used or expired link (HTTP 410)."""


class RangeNotSatisfiable(ArchiveError):
    """A byte range outside the object (HTTP 416)."""

    def __init__(self, detail: str, *, size: int) -> None:
        super().__init__(detail)
        self.size = size


class IntegrityFailure(ArchiveError):
    """Ciphertext, a wrapped key or a stored object failed authentication or a digest check."""


class KeyUnavailable(ArchiveError):
    """A key id that the keyring in use does not hold."""


class StorageError(ArchiveError):
    """The object store failed or is unreachable (HTTP 503)."""


class ConfigurationError(ArchiveError):
    """Settings that cannot work together, found at start-up."""
