"""The object store contract shared by every backend, and the rules for object keys."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from archive.errors import InvalidInput

#: S3 caps object names at 1024 bytes; the same limit keeps both backends interchangeable.
MAX_KEY_LENGTH = 1024
#: Most file systems cap one path component at 255 bytes.
MAX_SEGMENT_LENGTH = 255

_KEY = re.compile(r"[a-z0-9]+(?:/[a-z0-9]+)*")
_PREFIX = re.compile(r"(?:[a-z0-9]+/?)*")


@dataclass(frozen=True)
class ObjectInfo:
    """What a store knows about one stored object."""

    key: str
    size: int
    modified: datetime  # timezone-aware, UTC


@dataclass(frozen=True)
class UnfinishedUpload:
    """A write that began and never completed, or has not completed yet.

    A failing `put` removes its own; a killed process, or a store that fails part-way and
    then refuses the clean-up too, leaves one behind.
    """

    upload_id: str  # the backend's own name for it: a temporary file, an S3 upload id
    key: str | None  # the object it was to become, where the backend records that (S3)
    last_active: datetime  # when it last received data, as far as the backend tells; UTC


class ObjectStore(Protocol):
    """A place for opaque ciphertext blobs under caller-chosen keys.

    Keys are lower-case letters and digits in `/`-separated segments ("ab/cdef0123").
    Every method validates its keys and raises `InvalidInput` for anything else.
    Missing objects raise `NotFound`; backend failures raise `StorageError`.
    """

    name: str  # "local" or "s3", for messages
    #: Whether each `read` is a request over the network (S3), so that a whole object is
    #: better streamed by `iter_chunks` than read segment by segment (a local file).
    reads_cost_a_request: bool

    def put(self, key: str, chunks: Iterable[bytes | bytearray]) -> int:
        """Store a stream of unknown length under `key` and return the bytes written.

        Memory stays bounded whatever the length. The object becomes visible only once
        complete: if the stream or the backend fails part-way, nothing is left under `key`.
        An existing object under `key` is replaced.
        """
        ...

    def read(self, key: str, offset: int, length: int) -> bytes:
        """Return `length` bytes from `offset`, fewer only at the end of the object."""
        ...

    def read_into(self, key: str, offset: int, buffer: memoryview) -> int:
        """Fill `buffer` with the bytes from `offset`; return how many, fewer only at the end.

        For readers that use one buffer again and again: a fresh megabyte costs the kernel
        as much as decrypting it.
        """
        ...

    def iter_chunks(self, key: str, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        """Stream the whole object in chunks of at most `chunk_size` bytes.

        `NotFound` is raised by the call itself, before the first chunk is asked for.
        """
        ...

    def stat(self, key: str) -> ObjectInfo:
        """Describe one object; `NotFound` if absent."""
        ...

    def exists(self, key: str) -> bool:
        """Whether an object is stored under `key`."""
        ...

    def delete_many(self, keys: Iterable[str]) -> None:
        """Delete the objects in batches; keys that are already gone are fine."""
        ...

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Every stored object whose key starts with `prefix`, in no promised order."""
        ...

    def unfinished_uploads(self) -> Iterator[UnfinishedUpload]:
        """Every write that began and has not completed: left behind, or still running."""
        ...

    def abort_uploads(self, uploads: Iterable[UnfinishedUpload]) -> None:
        """Remove these unfinished writes and the bytes they hold; ones already gone are fine.

        A `put` still writing one of them fails; callers pick only writes idle for long.
        """
        ...

    def check(self) -> None:
        """Raise `StorageError` unless the store is reachable and usable."""
        ...

    def supports_object_lock(self) -> bool:
        """Whether the backend can enforce retention itself (S3 Object Lock)."""
        ...

    def set_legal_hold(self, keys: Iterable[str], on: bool) -> None:
        """Turn the backend's own legal hold on or off for these objects (a second line of
        defence under the database's holds); nothing on a backend without object lock."""
        ...


def check_key(key: str) -> str:
    """Return `key` unchanged if it is a valid object key, else raise `InvalidInput`."""
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise InvalidInput(
            f"object key {key!r} is not lower-case letters and digits in '/'-separated segments",
            field="key",
        )
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(f"object key is longer than {MAX_KEY_LENGTH} characters", field="key")
    if not _valid_segments(key):
        raise InvalidInput(
            f"object key has a segment longer than {MAX_SEGMENT_LENGTH} characters", field="key"
        )
    return key


def is_key(key: str) -> bool:
    """Whether `key` is a valid object key (for names found in a backend's listing)."""
    return isinstance(key, str) and len(key) <= MAX_KEY_LENGTH and _valid_segments(key)


def check_prefix(prefix: str) -> str:
    """Return `prefix` unchanged if it can start a valid key, else raise `InvalidInput`."""
    if not isinstance(prefix, str) or not _PREFIX.fullmatch(prefix) or len(prefix) > MAX_KEY_LENGTH:
        raise InvalidInput(f"{prefix!r} cannot start an object key", field="prefix")
    return prefix


def _valid_segments(key: str) -> bool:
    return bool(_KEY.fullmatch(key)) and all(
        len(segment) <= MAX_SEGMENT_LENGTH for segment in key.split("/")
    )


def check_range(offset: int, length: int) -> None:
    """Reject a negative offset or length before any backend sees it."""
    if offset < 0 or length < 0:
        raise InvalidInput(
            f"byte range needs a non-negative offset and length, not {offset} and {length}",
            field="range",
        )


def check_chunk_size(chunk_size: int) -> None:
    """Reject a chunk size that could never make progress."""
    if chunk_size <= 0:
        raise InvalidInput(f"chunk size must be positive, not {chunk_size}", field="chunk_size")
