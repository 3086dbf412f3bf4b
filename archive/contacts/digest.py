"""SHA-256 of a stream computed in a thread of its own, beside encryption and storage.

Hashing is the largest CPU cost of ingest; hashlib releases the interpreter lock, so on a
second core it runs while the main thread encrypts, writes and syncs, instead of before them.
The thread starts once the stream passes `INLINE_BYTES`: a chat or an e-mail is hashed at once,
as starting a thread costs more than hashing it.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from types import TracebackType

# Chunks waiting to be hashed; bounds the memory a slow hasher can hold (~8 MiB at 1 MiB).
BACKLOG = 8
INLINE_BYTES = 256 * 1024


class BackgroundDigest:
    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=BACKLOG)
        self._thread: threading.Thread | None = None
        self._inline = 0
        self._closed = False

    def _run(self) -> None:
        while (chunk := self._queue.get()) is not None:
            self._hash.update(chunk)

    def update(self, chunk: bytes) -> None:
        if self._thread is None:
            if self._inline + len(chunk) <= INLINE_BYTES:
                self._inline += len(chunk)
                self._hash.update(chunk)
                return
            self._thread = threading.Thread(target=self._run, name="sha256", daemon=True)
            self._thread.start()
        self._queue.put(bytes(chunk) if not isinstance(chunk, bytes) else chunk)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            if self._thread is not None:
                self._queue.put(None)
                self._thread.join()

    def digest(self) -> bytes:
        """The digest of everything given; waits for the hasher to finish."""
        self.close()
        return self._hash.digest()

    def __enter__(self) -> BackgroundDigest:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
