"""The background SHA-256 equals hashlib's, whether the stream is hashed inline or in a thread."""

from __future__ import annotations

import hashlib
import os

import pytest

from archive.contacts.digest import INLINE_BYTES, BackgroundDigest

pytestmark = pytest.mark.fast


@pytest.mark.parametrize(
    "sizes",
    [[], [10], [INLINE_BYTES], [INLINE_BYTES, 1], [100] * 5000, [1 << 20] * 3, [5, 1 << 20, 7]],
)
def test_the_digest_is_sha256_of_the_whole_stream(sizes: list[int]) -> None:
    chunks = [os.urandom(size) for size in sizes]
    with BackgroundDigest() as digest:
        for chunk in chunks:
            digest.update(memoryview(chunk) if len(chunk) % 2 else chunk)
        found = digest.digest()
    assert found == hashlib.sha256(b"".join(chunks)).digest()
