"""Segmented streaming encryption of stored objects (Tink's AES-GCM-HKDF streaming, AES-256)."""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Callable, Iterable, Iterator

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from archive.errors import IntegrityFailure, PayloadTooLarge, RangeNotSatisfiable

DEFAULT_SEGMENT_SIZE = 1 << 20
KEY_SIZE = 32
SALT_SIZE = 32
NONCE_PREFIX_SIZE = 7
HEADER_SIZE = 1 + SALT_SIZE + NONCE_PREFIX_SIZE
TAG_SIZE = 16
MIN_SEGMENT_SIZE = HEADER_SIZE + 64
# An upper bound keeps a corrupted size in the metadata from making a reader allocate gigabytes.
MAX_SEGMENT_SIZE = 1 << 26
# The segment number is a 32-bit field of the nonce.
MAX_SEGMENTS = 1 << 32
OBJECT_AD_PREFIX = b"contact-archive/object/v1:"
# Ranged reads fetch a few segments per store request: fewer round trips, still bounded memory.
RANGE_READ_SIZE = 4 << 20
# Parts of a segment at least this long stay views of the caller's chunks; shorter ones are copied
# together, so that a stream of tiny chunks does not become thousands of cipher calls per segment.
GATHER_BELOW = 64 << 10
# Sealed segments kept for reuse, all streams together: a store's writer holds about 16 in its
# queue, and a fresh megabyte costs the kernel 256 page faults and a zero fill each time.
SPARE_SEGMENTS = 24

Chunk = bytes | bytearray | memoryview
Read = Callable[[int, int], bytes]
ReadInto = Callable[[int, memoryview], int]


def ciphertext_size(plaintext_size: int, segment_size: int) -> int:
    """Size of the stored object that holds `plaintext_size` bytes."""
    _check_segment_size(segment_size)
    if plaintext_size < 0:
        raise ValueError("plaintext size cannot be negative")
    # The header occupies the start of the first segment's slot, so counting it as plaintext
    # gives every segment the same capacity.
    full, rest = divmod(plaintext_size + HEADER_SIZE, segment_size - TAG_SIZE)
    return full * segment_size + (rest + TAG_SIZE if rest else 0)


def plaintext_size(ciphertext_size: int, segment_size: int) -> int:
    """Size of the plaintext inside a stored object; IntegrityFailure if no object has that size."""
    count = _segment_count(ciphertext_size, segment_size)
    return ciphertext_size - HEADER_SIZE - count * TAG_SIZE


def encrypt_stream(
    key: bytes,
    object_id: str,
    chunks: Iterable[Chunk],
    *,
    segment_size: int = DEFAULT_SEGMENT_SIZE,
    salt: bytes | None = None,
    nonce_prefix: bytes | None = None,
) -> Iterator[bytes | bytearray]:
    """Encrypt input of any length and chunking; yields the header, then each segment.

    Segments are sealed straight from the caller's chunks, without gathering them into one
    buffer first, into buffers that are used again for later segments, of this or another
    stream, once nothing refers to them any more: a consumer may keep what it receives.
    `salt` and `nonce_prefix` exist for fixed test vectors only; leave them unset.
    """
    _check_segment_size(segment_size)
    salt = os.urandom(SALT_SIZE) if salt is None else salt
    nonce_prefix = os.urandom(NONCE_PREFIX_SIZE) if nonce_prefix is None else nonce_prefix
    if len(salt) != SALT_SIZE or len(nonce_prefix) != NONCE_PREFIX_SIZE:
        raise ValueError(f"salt must be {SALT_SIZE} bytes, nonce prefix {NONCE_PREFIX_SIZE}")
    header = bytes([HEADER_SIZE]) + salt + nonce_prefix
    cipher = _SegmentCipher(key, object_id, salt, nonce_prefix)
    sizes = itertools.chain(
        [segment_size - HEADER_SIZE - TAG_SIZE], itertools.repeat(segment_size - TAG_SIZE)
    )
    pieces = enumerate(_gather(chunks, sizes))
    segments = (cipher.seal(index, parts, last=last) for index, (parts, last) in pieces)
    return itertools.chain([header], segments)


def decrypt_stream(
    key: bytes,
    object_id: str,
    chunks: Iterable[Chunk],
    *,
    segment_size: int = DEFAULT_SEGMENT_SIZE,
) -> Iterator[bytes]:
    """Decrypt a whole stored object; yields the plaintext of each segment once it is verified.

    A tampered, truncated or extended object raises IntegrityFailure at the first bad segment,
    so a consumer must treat what it already received as unusable until the iterator ends.
    """
    _check_segment_size(segment_size)
    _check_key(key, object_id)
    sizes = itertools.chain(
        [HEADER_SIZE, segment_size - HEADER_SIZE], itertools.repeat(segment_size)
    )
    return _decrypt(key, object_id, _split(chunks, sizes))


def decrypt_range(
    key: bytes,
    object_id: str,
    read: Read,
    *,
    ciphertext_size: int,
    segment_size: int,
    start: int,
    end: int,
) -> Iterator[bytes]:
    """Plaintext bytes [start, end) of a stored object, reading only the segments that hold them.

    `read(offset, length)` returns stored ciphertext bytes. RangeNotSatisfiable if the range
    does not lie inside the plaintext.
    """
    stored = EncryptedObject(
        key, object_id, read, ciphertext_size=ciphertext_size, segment_size=segment_size
    )
    if not 0 <= start <= end <= stored.plaintext_size:
        raise RangeNotSatisfiable(
            f"range {start}-{end} is outside the object", size=stored.plaintext_size
        )
    return stored.plaintext(start, end)


class EncryptedObject:
    """Random access to the verified segments of one stored object."""

    def __init__(
        self, key: bytes, object_id: str, read: Read, *, ciphertext_size: int, segment_size: int
    ) -> None:
        _check_key(key, object_id)
        self.segment_count = _segment_count(ciphertext_size, segment_size)
        self.plaintext_size = plaintext_size(ciphertext_size, segment_size)
        self._key = key
        self._object_id = object_id
        self._read = read
        self._ciphertext_size = ciphertext_size
        self._segment_size = segment_size
        self._cipher: _SegmentCipher | None = None

    def segment_of(self, position: int) -> int:
        """Index of the segment holding plaintext byte `position`."""
        return (position + HEADER_SIZE) // (self._segment_size - TAG_SIZE)

    def plaintext_start(self, index: int) -> int:
        """Plaintext offset of the first byte of segment `index`."""
        return max(index * (self._segment_size - TAG_SIZE) - HEADER_SIZE, 0)

    def plaintext(self, start: int, end: int) -> Iterator[bytes]:
        """Verified plaintext bytes [start, end); the caller checks the bounds."""
        if start >= end:
            return
        first, last = self.segment_of(start), self.segment_of(end - 1)
        for index, plain in enumerate(self.segments(first, last + 1), start=first):
            base = self.plaintext_start(index)
            low, high = max(start - base, 0), min(end - base, len(plain))
            yield plain if low == 0 and high == len(plain) else plain[low:high]

    def segments(self, first: int, stop: int) -> Iterator[bytes]:
        """Verified plaintext of segments first .. stop-1, read a few segments at a time."""
        per_read = max(1, RANGE_READ_SIZE // self._segment_size)
        for group in range(first, stop, per_read):
            group_stop = min(group + per_read, stop)
            # The first read of segment 0 also fetches the header; otherwise it is read alone.
            begin = 0 if group == 0 and self._cipher is None else self._offset(group)
            if self._cipher is None and begin > 0:
                self._open(self._read_exact(0, HEADER_SIZE))
            data = memoryview(self._read_exact(begin, self._offset(group_stop) - begin))
            cipher = self._cipher or self._open(data[:HEADER_SIZE])
            for index in range(group, group_stop):
                part = data[self._offset(index) - begin : self._offset(index + 1) - begin]
                yield cipher.open(index, part, last=index == self.segment_count - 1)

    def segment_into(
        self, index: int, read_into: ReadInto, ciphertext: bytearray, plaintext: bytearray
    ) -> memoryview:
        """Verified plaintext of segment `index`, a view of `plaintext`, read through
        `ciphertext`: buffers of the caller's, each at least a segment long, used again
        from one segment to the next instead of a fresh one per segment.

        `read_into(offset, buffer)` fills `buffer` with stored bytes from `offset` and says
        how many. After a failure `plaintext` may hold unverified bytes: it is not to be used.
        """
        cipher = self._cipher or self._open(self._read_exact(0, HEADER_SIZE))
        begin = self._offset(index)
        stored = memoryview(ciphertext)[: self._offset(index + 1) - begin]
        if read_into(begin, stored) != len(stored):
            raise IntegrityFailure("stored object is shorter than its recorded size")
        return cipher.open_into(index, stored, plaintext, last=index == self.segment_count - 1)

    def _open(self, header: Chunk) -> _SegmentCipher:
        self._cipher = _open_header(self._key, self._object_id, header)
        return self._cipher

    def _offset(self, index: int) -> int:
        """Ciphertext offset where segment `index` starts (or where the object ends)."""
        if index == 0:
            return HEADER_SIZE
        return min(index * self._segment_size, self._ciphertext_size)

    def _read_exact(self, offset: int, length: int) -> bytes:
        data = self._read(offset, length)
        if len(data) != length:
            raise IntegrityFailure("stored object is shorter than its recorded size")
        return data


class _SegmentCipher:
    """AES-GCM under the object's derived key, with Tink's per-segment nonces."""

    def __init__(self, key: bytes, object_id: str, salt: bytes, nonce_prefix: bytes) -> None:
        _check_key(key, object_id)
        derived = HKDF(
            algorithm=hashes.SHA256(),
            length=KEY_SIZE,
            salt=salt,
            info=OBJECT_AD_PREFIX + object_id.encode(),
        ).derive(key)
        self._aead = AESGCM(derived)
        self._aes = algorithms.AES(derived)
        self._nonce_prefix = nonce_prefix

    def _nonce(self, index: int, last: bool) -> bytes:
        if index >= MAX_SEGMENTS:
            raise PayloadTooLarge("object exceeds the format's limit of 2**32 segments")
        return self._nonce_prefix + index.to_bytes(4, "big") + (b"\x01" if last else b"\x00")

    def seal(self, index: int, parts: list[Chunk], *, last: bool) -> bytes | bytearray:
        """The sealed segment whose plaintext is `parts` joined; the parts are not copied."""
        nonce = self._nonce(index, last)
        if last:
            # The last segment is usually shorter than the others, so no spare buffer fits it.
            if len(parts) == 1:
                return self._aead.encrypt(nonce, parts[0], None)
            sealed = bytearray(sum(map(len, parts)) + TAG_SIZE)
        else:
            sealed = _SPARES.take(sum(map(len, parts)) + TAG_SIZE)
        if len(parts) == 1:
            self._aead.encrypt_into(nonce, parts[0], None, sealed)
            return sealed
        # AES-GCM as a stream cipher: the ciphertext and tag are those of the joined parts.
        encryptor = Cipher(self._aes, modes.GCM(nonce)).encryptor()
        view = memoryview(sealed)
        end = 0
        for part in parts:
            end += encryptor.update_into(part, view[end:])
        encryptor.finalize()
        view[end:] = encryptor.tag
        return sealed

    def open(self, index: int, ciphertext: Chunk, *, last: bool) -> bytes:
        self._check_length(index, ciphertext, last=last)
        try:
            return self._aead.decrypt(self._nonce(index, last), ciphertext, None)
        except InvalidTag:
            raise _altered(index) from None

    def open_into(
        self, index: int, ciphertext: Chunk, into: bytearray, *, last: bool
    ) -> memoryview:
        """Like `open`, into the start of `into`; the plaintext is that view of it."""
        self._check_length(index, ciphertext, last=last)
        plain = memoryview(into)[: len(ciphertext) - TAG_SIZE]
        try:
            self._aead.decrypt_into(self._nonce(index, last), ciphertext, None, plain)
        except InvalidTag:
            raise _altered(index) from None
        return plain

    @staticmethod
    def _check_length(index: int, ciphertext: Chunk, *, last: bool) -> None:
        # Only the sole segment of an empty object may be a bare tag; the encryptor never writes
        # an empty final segment after a full one, so one is a sign of tampering.
        if len(ciphertext) < TAG_SIZE or (index > 0 and last and len(ciphertext) == TAG_SIZE):
            raise IntegrityFailure(f"segment {index} of the object is truncated")


def _altered(index: int) -> IntegrityFailure:
    return IntegrityFailure(
        f"segment {index} failed authentication: wrong key, wrong object or altered data"
    )


def _decrypt(key: bytes, object_id: str, pieces: Iterator[tuple[Chunk, bool]]) -> Iterator[bytes]:
    header, last = next(pieces)
    if last:
        raise IntegrityFailure("object is too short to hold a header and a segment")
    cipher = _open_header(key, object_id, header)
    for index, (piece, last) in enumerate(pieces):
        plain = cipher.open(index, piece, last=last)
        # Not kept while the consumer holds the plaintext: with a chunk of the segment size,
        # the piece is that whole chunk.
        del piece
        yield plain


def _split(chunks: Iterable[Chunk], sizes: Iterator[int]) -> Iterator[tuple[Chunk, bool]]:
    """Cut a stream into pieces of the given sizes, flagging the last; only it may be shorter.

    A piece is released only once a byte beyond it has arrived, because whether it is the
    last one decides its nonce. Memory stays at one piece plus the caller's current chunk.
    A piece is valid only until the next is requested: the buffer that gathers it is reused.
    A piece that ends where its chunk ends waits as a view of the chunk, not as a copy: a
    store read in chunks of the segment size then hands every segment over uncopied.
    """
    want = next(sizes)
    held = bytearray()
    filled = 0
    waiting: memoryview | None = None  # a whole piece, a view of the chunk that ended it
    for chunk in chunks:
        # Bytes are immutable and can be sliced without copying; a caller may reuse anything else.
        view = memoryview(chunk if isinstance(chunk, bytes) else bytes(chunk))
        start = 0
        while filled + len(view) - start > want:
            take = want - filled
            if waiting is not None:
                yield waiting, False
                waiting = None
            elif filled:
                held[filled:] = view[start : start + take]
                yield held, False
            else:
                yield view[start : start + take], False
            start, filled = start + take, 0
            want = next(sizes)
        rest = len(view) - start
        if not rest:
            continue
        if not filled and rest == want:
            waiting, filled = view[start:], want
            continue
        if len(held) != want:
            held = bytearray(want)
        held[filled : filled + rest] = view[start:]
        filled += rest
    yield (waiting if waiting is not None else memoryview(held)[:filled]), True


class _SpareBuffers:
    """Segment buffers that have been handed out and may be handed out again.

    A buffer is free again when the only references left are this list's own: the store that
    wrote it has dropped it, and anyone who kept it keeps it unchanged. CPython's reference
    count says so exactly while the interpreter lock serialises threads; where it does not (no
    reference counts, or no lock), every segment gets a buffer of its own.
    """

    def __init__(self, limit: int) -> None:
        self._buffers: list[bytearray] = []
        self._limit = limit if _reference_counts_are_exact() else 0
        # What getrefcount reports, through the same loop as in `take`, for an unshared buffer:
        # it counts the list, the loop variable and its own argument, however the interpreter
        # version accounts for the latter two.
        self._unshared = _references([bytearray(1)])

    def take(self, size: int) -> bytearray:
        """A buffer of `size` bytes that nothing else refers to, with arbitrary content."""
        for buffer in self._buffers:
            if len(buffer) == size and sys.getrefcount(buffer) == self._unshared:
                return buffer
        buffer = bytearray(size)
        if len(self._buffers) < self._limit:
            self._buffers.append(buffer)
        return buffer


def _references(buffers: list[bytearray]) -> int:
    for buffer in buffers:
        return sys.getrefcount(buffer)
    raise ValueError("no buffer to count references to")


def _reference_counts_are_exact() -> bool:
    gil_enabled: Callable[[], bool] = getattr(sys, "_is_gil_enabled", lambda: True)
    return sys.implementation.name == "cpython" and gil_enabled()


_SPARES = _SpareBuffers(SPARE_SEGMENTS)


def _gather(chunks: Iterable[Chunk], sizes: Iterator[int]) -> Iterator[tuple[list[Chunk], bool]]:
    """Cut a stream into pieces of the given sizes, each a list of parts, flagging the last.

    Like `_split`, a piece is released only once a byte beyond it has arrived. Long parts are
    views of the caller's chunks rather than copies: with 1 MiB chunks, the segments straddle
    every chunk boundary, and gathering them cost a copy of everything. Memory stays at about
    one piece plus the caller's current chunk.
    """
    missing = next(sizes)
    parts: list[Chunk] = []
    for chunk in chunks:
        # Bytes are immutable and can be kept as views; a caller may reuse anything else.
        view = memoryview(chunk if isinstance(chunk, bytes) else bytes(chunk))
        start = 0
        while len(view) - start > missing:
            if missing:
                _add_part(parts, view[start : start + missing])
            yield parts, False
            parts = []
            start += missing
            missing = next(sizes)
        if start < len(view):
            _add_part(parts, view[start:])
            missing -= len(view) - start
    yield parts, True


def _add_part(parts: list[Chunk], part: memoryview) -> None:
    if len(part) >= GATHER_BELOW:
        parts.append(part)
    elif parts and isinstance(parts[-1], bytearray) and len(parts[-1]) < GATHER_BELOW:
        parts[-1] += part
    else:
        parts.append(bytearray(part))


def _open_header(key: bytes, object_id: str, header: Chunk) -> _SegmentCipher:
    if len(header) != HEADER_SIZE or header[0] != HEADER_SIZE:
        raise IntegrityFailure("object header is malformed")
    salt = bytes(header[1 : 1 + SALT_SIZE])
    return _SegmentCipher(key, object_id, salt, bytes(header[1 + SALT_SIZE : HEADER_SIZE]))


def _segment_count(ciphertext_size: int, segment_size: int) -> int:
    _check_segment_size(segment_size)
    count = -(-ciphertext_size // segment_size)
    last = ciphertext_size - (count - 1) * segment_size - (HEADER_SIZE if count == 1 else 0)
    # Only the sole segment of an empty object may be a bare tag.
    smallest_last = TAG_SIZE if count == 1 else TAG_SIZE + 1
    if count < 1 or count > MAX_SEGMENTS or last < smallest_last:
        raise IntegrityFailure(
            f"no object of segment size {segment_size} has {ciphertext_size} bytes"
        )
    return count


def _check_segment_size(segment_size: int) -> None:
    if not MIN_SEGMENT_SIZE <= segment_size <= MAX_SEGMENT_SIZE:
        raise ValueError(
            f"segment size must be between {MIN_SEGMENT_SIZE} and {MAX_SEGMENT_SIZE} bytes"
        )


def _check_key(key: bytes, object_id: str) -> None:
    if len(key) != KEY_SIZE:
        raise ValueError(f"a data key is {KEY_SIZE} bytes")
    if not object_id:
        raise ValueError("object id is empty")
