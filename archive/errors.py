"""The archive's own exceptions; the API maps them to problem details in one place."""

from __future__ import annotations

from typing import ClassVar


class ArchiveError(Exception):
    """Base of every error the archive raises on purpose.

    `detail` tells a caller what they got wrong. A failure of the archive itself carries a
    detail for operators instead (an endpoint, a bucket, an object key, a path, a library's
    message): such a class sets `advice`, what users are told in its place.
    """

    advice: ClassVar[str | None] = None

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field

    @property
    def public_detail(self) -> str:
        """What anyone but an operator may be told about this error."""
        return self.advice or self.detail


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

    advice = "stored content failed its integrity check; an operator has been told"


class ContentMissing(ArchiveError):
    """Stored content that the database refers to is missing from the object store (HTTP 502).

    Not a `NotFound`: the contact exists, and its content was lost or never arrived, which
    an operator must look into (a restore, `archive check`), not the caller.
    """

    advice = "stored content is missing from the object store; an operator has been told"


class KeyUnavailable(ArchiveError):
    """A key id that the keyring in use does not hold."""

    advice = "a key needed to open stored content is not available; an operator has been told"


class StorageError(ArchiveError):
    """The object store failed or is unreachable (HTTP 503)."""

    advice = "the object store is unavailable; try again later"


class ConfigurationError(ArchiveError):
    """Settings that cannot work together, found at start-up."""
