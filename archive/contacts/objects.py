"""Content objects: encrypt a stream into the store; read it back whole, by range or seekably."""

from __future__ import annotations

import hashlib
import io
import secrets
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

import structlog

from archive.contacts.digest import BackgroundDigest
from archive.contacts.models import ContentObject
from archive.crypto.reader import DecryptingReader
from archive.crypto.stream import EncryptedObject, decrypt_range, decrypt_stream, encrypt_stream
from archive.errors import (
    ArchiveError,
    Conflict,
    ContentMissing,
    IntegrityFailure,
    NotFound,
    PayloadTooLarge,
    RangeNotSatisfiable,
    StorageError,
)
from archive.keys.rows import issue_key, open_key
from archive.runtime import Runtime
from archive.storage.base import ObjectStore

log = structlog.get_logger(__name__)


def new_storage_key() -> str:
    """A random key with two levels of fan-out; it says nothing about the contact."""
    token = secrets.token_hex(16)
    return f"{token[:2]}/{token[2:4]}/{token}"


def put_new(store: ObjectStore, storage_key: str, chunks: Iterable[bytes | bytearray]) -> int:
    """Store an object under a key `new_storage_key` made; returns the bytes stored.

    A store that finds the key clashing with another (the local store's directories) has
    failed, not the caller: that is a StorageError for an operator, never a 409 naming the key.
    """
    try:
        return store.put(storage_key, chunks)
    except Conflict as error:
        raise StorageError(error.detail) from None


class _Measured:
    """Passes chunks through while counting, hashing and enforcing the size limit."""

    def __init__(self, chunks: Iterable[bytes], limit: int, digest: BackgroundDigest) -> None:
        self._chunks = chunks
        self._limit = limit
        self.size = 0
        self.digest = digest

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._chunks:
            self.size += len(chunk)
            if self.size > self._limit:
                raise PayloadTooLarge(
                    f"the content is larger than the limit of {self._limit} bytes"
                )
            self.digest.update(chunk)
            yield chunk


def write_object(
    runtime: Runtime,
    *,
    contact_id: uuid.UUID,
    role: str,
    media_type: str,
    chunks: Iterable[bytes],
    limit: int,
    position: int = 0,
) -> ContentObject:
    """Encrypt `chunks` under a fresh data key into the store; the row is returned, not added.

    Nothing plaintext touches the disk: chunks are encrypted segment by segment on the way.
    If the stream fails (too large, client gone, store down) the store keeps nothing.
    """
    obj = ContentObject(
        id=uuid.uuid4(),
        contact_id=contact_id,
        role=role,
        position=position,
        storage_key=new_storage_key(),
        media_type=media_type,
        segment_size=runtime.settings.segment_size,
        created_at=runtime.clock.now(),
    )
    data_key = issue_key(obj, runtime.keys.keyring)
    with BackgroundDigest() as digest:
        measured = _Measured(chunks, limit, digest)
        ciphertext = encrypt_stream(
            data_key, str(obj.id), measured, segment_size=runtime.settings.segment_size
        )
        obj.stored_size = put_new(runtime.store, obj.storage_key, ciphertext)
        obj.sha256 = digest.digest()
    obj.size = measured.size
    return obj


@contextmanager
def present(what: str, storage_key: str) -> Iterator[None]:
    """Reading what the database says is stored: a store without it has lost it.

    The caller asked for something that exists, so this is no `NotFound` (a 404 would say
    the contact does not exist) but a failure for an operator, logged with the key.
    """
    try:
        yield
    except NotFound:
        raise ContentMissing(f"{what}: the store has no object {storage_key!r}") from None


def read_object(runtime: Runtime, obj: ContentObject) -> Iterator[bytes]:
    """The whole plaintext, segment by segment, each verified before it is yielded."""
    data_key = open_key(obj, runtime.keys.keyring)
    with present(f"object {obj.id}", obj.storage_key):
        chunks = runtime.store.iter_chunks(obj.storage_key)
    return decrypt_stream(data_key, str(obj.id), chunks, segment_size=obj.segment_size)


def _reader_of(runtime: Runtime, obj: ContentObject) -> Callable[[int, int], bytes]:
    # Bound to the key now: responses stream after the request's session has closed.
    store, storage_key, what = runtime.store, obj.storage_key, f"object {obj.id}"

    def read(offset: int, length: int) -> bytes:
        with present(what, storage_key):
            return store.read(storage_key, offset, length)

    return read


def read_range(runtime: Runtime, obj: ContentObject, start: int, end: int) -> Iterator[bytes]:
    """Plaintext bytes [start, end), decrypting only the segments that hold them."""
    data_key = open_key(obj, runtime.keys.keyring)
    return decrypt_range(
        data_key,
        str(obj.id),
        _reader_of(runtime, obj),
        ciphertext_size=obj.stored_size,
        segment_size=obj.segment_size,
        start=start,
        end=end,
    )


class SegmentReader:
    """Plaintext bytes [start, end) of an object, one verified segment per call, then None.

    Each call reads one segment from the store and decrypts it, through buffers used again
    from call to call, and returns the plaintext as copies of at most `piece` bytes; nothing
    is kept between calls but the position. A fresh megabyte per segment for the ciphertext
    and another for the plaintext cost about as much CPU again as reading and decrypting it;
    a generator would also keep its last ciphertext alive while the plaintext is sent.
    """

    def __init__(
        self, runtime: Runtime, obj: ContentObject, start: int, end: int, *, piece: int
    ) -> None:
        self._stored = EncryptedObject(
            open_key(obj, runtime.keys.keyring),
            str(obj.id),
            _reader_of(runtime, obj),
            ciphertext_size=obj.stored_size,
            segment_size=obj.segment_size,
        )
        if not 0 <= start <= end <= self._stored.plaintext_size:
            raise RangeNotSatisfiable(
                f"range {start}-{end} is outside the object", size=self._stored.plaintext_size
            )
        store, storage_key, what = runtime.store, obj.storage_key, f"object {obj.id}"

        def read_into(offset: int, buffer: memoryview) -> int:
            with present(what, storage_key):
                return store.read_into(storage_key, offset, buffer)

        self._read_into = read_into
        self._segment_size = obj.segment_size
        self._piece = piece
        self._start, self._end = start, end
        # An empty object still has its one segment, verified like any other.
        self._next = self._stored.segment_of(start) if end > start else 0
        self._last = self._stored.segment_of(end - 1) if end > start else 0

    def __call__(self) -> list[bytes] | None:
        index = self._next
        if index > self._last:
            return None
        self._next += 1
        buffers = _SEGMENT_BUFFERS.take(self._segment_size)
        try:
            plain = self._stored.segment_into(index, self._read_into, *buffers)
            base = self._stored.plaintext_start(index)
            low, high = max(self._start - base, 0), min(self._end - base, len(plain))
            return [
                bytes(plain[at : min(at + self._piece, high)])
                for at in range(low, high, self._piece)
            ] or [b""]
        finally:
            _SEGMENT_BUFFERS.give_back(buffers)


class _BufferPairs:
    """Ciphertext and plaintext buffers of a segment, kept for the next reader to use."""

    def __init__(self, limit: int) -> None:
        self._spare: list[tuple[bytearray, bytearray]] = []
        self._limit = limit

    def take(self, size: int) -> tuple[bytearray, bytearray]:
        # list.pop and list.append are atomic: readers on several threads share the list.
        try:
            pair = self._spare.pop()
        except IndexError:
            return bytearray(size), bytearray(size)
        if len(pair[0]) < size:
            return bytearray(size), bytearray(size)
        return pair

    def give_back(self, pair: tuple[bytearray, bytearray]) -> None:
        if len(self._spare) < self._limit:
            self._spare.append(pair)


# Segments are read and decrypted a few at a time (see archive/api/download.py); a few more
# pairs cover a moment where more run at once, and a larger object's pairs replace smaller ones.
_SEGMENT_BUFFERS = _BufferPairs(8)


def read_bytes(runtime: Runtime, obj: ContentObject) -> bytes:
    """The whole plaintext in memory; only for small objects (e-mails, transcripts).

    Each segment is written into one buffer of the object's size as it is decrypted, so the
    plaintext is held once, not once in segments and again joined.
    """
    buffer = io.BytesIO()
    if obj.size:
        # Writing the last byte first sizes the buffer once; getvalue() then hands that buffer
        # over without copying it. A plaintext of another size fails the digest below.
        buffer.seek(obj.size - 1)
        buffer.write(b"\0")
        buffer.seek(0)
    for segment in read_object(runtime, obj):
        buffer.write(segment)
    data = buffer.getvalue()
    if hashlib.sha256(data).digest() != obj.sha256:
        raise IntegrityFailure(f"object {obj.id} does not match its recorded digest")
    return data


def open_reader(runtime: Runtime, obj: ContentObject) -> DecryptingReader:
    """A seekable file over the plaintext, for parsers that jump around (audio metadata)."""
    data_key = open_key(obj, runtime.keys.keyring)
    return DecryptingReader(
        data_key,
        str(obj.id),
        _reader_of(runtime, obj),
        ciphertext_size=obj.stored_size,
        segment_size=obj.segment_size,
    )


def discard(runtime: Runtime, objects: Iterable[ContentObject]) -> None:
    """Remove objects whose contact was never recorded; the orphan sweep catches any failure."""
    keys = [obj.storage_key for obj in objects]
    if not keys:
        return
    try:
        runtime.store.delete_many(keys)
    except ArchiveError as error:
        log.warning("orphans left for the integrity sweep", count=len(keys), error=error.detail)
