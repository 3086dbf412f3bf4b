"""A seekable, read-only file object over the plaintext of a stored encrypted object."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from archive.crypto.stream import EncryptedObject, Read

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer


class DecryptingReader(io.RawIOBase):
    """Plaintext view that decrypts only the segments it is asked for.

    Metadata parsers (audio tags, durations) seek around a file; keeping the last segment
    decrypted makes their many small reads near each other cost one store request.
    """

    def __init__(
        self, key: bytes, object_id: str, read: Read, *, ciphertext_size: int, segment_size: int
    ) -> None:
        super().__init__()
        self._object = EncryptedObject(
            key, object_id, read, ciphertext_size=ciphertext_size, segment_size=segment_size
        )
        self._position = 0
        self._cached_index = -1
        self._cached = b""

    @property
    def size(self) -> int:
        """Plaintext size in bytes."""
        return self._object.plaintext_size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET, /) -> int:
        self._check_open()
        if whence == io.SEEK_SET:
            position = offset
        elif whence == io.SEEK_CUR:
            position = self._position + offset
        elif whence == io.SEEK_END:
            position = self.size + offset
        else:
            raise ValueError(f"invalid whence ({whence})")
        if position < 0:
            raise ValueError(f"negative seek position {position}")
        self._position = position
        return position

    def tell(self) -> int:
        self._check_open()
        return self._position

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        # Fill the whole buffer when the data is there: callers such as mutagen treat a short
        # read as the end of the file, although a raw stream may legally return less.
        self._check_open()
        with memoryview(buffer) as view, view.cast("B") as target:
            filled = 0
            while filled < len(target) and self._position < self.size:
                index = self._object.segment_of(self._position)
                plain = self._segment(index)
                offset = self._position - self._object.plaintext_start(index)
                count = min(len(plain) - offset, len(target) - filled)
                target[filled : filled + count] = memoryview(plain)[offset : offset + count]
                filled += count
                self._position += count
            return filled

    def readall(self) -> bytes:
        self._check_open()
        start = min(self._position, self.size)
        data = b"".join(self._object.plaintext(start, self.size))
        self._position = max(self._position, self.size)
        return data

    def _segment(self, index: int) -> bytes:
        if index != self._cached_index:
            self._cached = next(self._object.segments(index, index + 1))
            self._cached_index = index
        return self._cached

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed file")
