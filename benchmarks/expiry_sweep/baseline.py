"""The plain baseline: the same number of objects of the same sizes, deleted without the archive.

On the local store that is `os.unlink` of files of the same sizes, one after the other, in the
same file system and the same two-level fan-out of directories; on S3 it is the SDK's own
DeleteObjects requests of 1,000 keys each, in the same bucket. Neither touches a database.
"""

from __future__ import annotations

import io
import os
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from minio.deleteobjects import DeleteObject

from archive.runtime import Runtime
from archive.storage import LocalStore, S3Store

#: S3 takes at most this many keys in one DeleteObjects request.
DELETE_BATCH = 1000
#: A prefix none of the archive's keys starts with (they start with two hex digits).
S3_PREFIX = "baseline/"


@dataclass
class Planted:
    """Objects made for one timed plain delete."""

    sizes: Sequence[int]
    paths: list[Path]  # local store
    keys: list[str]  # S3

    @property
    def count(self) -> int:
        return len(self.sizes)

    @property
    def bytes(self) -> int:
        return sum(self.sizes)


def plant(runtime: Runtime, sizes: Sequence[int], directory: Path, block: bytes) -> Planted:
    """Write objects of `sizes` bytes where the store keeps its own, durably, as a put does."""
    store = runtime.store
    planted = Planted(sizes, [], [])
    for size in sizes:
        token = secrets.token_hex(16)
        data = _payload(block, size)
        if isinstance(store, LocalStore):
            path = directory / token[:2] / token[2:4] / token
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            planted.paths.append(path)
        else:
            assert isinstance(store, S3Store)
            key = S3_PREFIX + token
            # Straight through the SDK, as the plain delete goes.
            store.client.put_object(store.bucket, key, io.BytesIO(data), len(data))
            planted.keys.append(key)
    return planted


def remove(runtime: Runtime, planted: Planted) -> float:
    """Delete what `plant` made, plainly; the seconds it took."""
    store = runtime.store
    started = time.perf_counter()
    if isinstance(store, LocalStore):
        for path in planted.paths:
            os.unlink(path)
    else:
        assert isinstance(store, S3Store)
        client = store.client
        for start in range(0, len(planted.keys), DELETE_BATCH):
            batch = [DeleteObject(key) for key in planted.keys[start : start + DELETE_BATCH]]
            errors = list(client.remove_objects(store.bucket, batch))
            if errors:
                raise RuntimeError(f"the plain delete failed: {errors[0]}")
    return time.perf_counter() - started


def _payload(block: bytes, size: int) -> bytes:
    """`size` bytes: random, and different from every other payload at its start."""
    repeats = -(-size // len(block))
    return (secrets.token_bytes(16) + block * repeats)[:size]
