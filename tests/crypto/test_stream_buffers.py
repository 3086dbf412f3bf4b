"""Sealing segments from views of the caller's chunks into buffers that are used again."""

from __future__ import annotations

import itertools
import os
import queue
import threading
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.crypto import encrypt_stream, new_data_key
from archive.crypto import stream as stream_module

from .support import reference_encrypt

pytestmark = pytest.mark.fast

OBJECT_ID = "5f0c2d7e91ab4e36"
SALT = bytes(range(100, 132))
NONCE_PREFIX = bytes(range(7))


def expected(key: bytes, plaintext: bytes, segment_size: int) -> bytes:
    """The reference encryptor's output for `plaintext`, cut as the format says."""
    first = segment_size - 40 - 16
    bounds = [0, *range(first, len(plaintext), segment_size - 16), len(plaintext)]
    # A plaintext that fills its segments exactly ends with a full one; empty input has one empty.
    segments = [plaintext[a:b] for a, b in itertools.pairwise(bounds)]
    return reference_encrypt(key, OBJECT_ID, SALT, NONCE_PREFIX, segments)


def sealed(key: bytes, chunks: list[bytes], segment_size: int) -> Iterator[bytes | bytearray]:
    return encrypt_stream(
        key, OBJECT_ID, chunks, segment_size=segment_size, salt=SALT, nonce_prefix=NONCE_PREFIX
    )


def cut(data: bytes, sizes: list[int]) -> list[bytes]:
    chunks, start = [], 0
    for size in itertools.cycle(sizes):
        if start >= len(data):
            return chunks
        chunks.append(data[start : start + size])
        start += size
    raise AssertionError("unreachable")


@settings(max_examples=200, deadline=None)
@given(
    length=st.integers(min_value=0, max_value=3000),
    segment_size=st.sampled_from([104, 137, 512]),
    sizes=st.lists(st.integers(min_value=0, max_value=900), min_size=1, max_size=6).filter(any),
    gather_below=st.sampled_from([1, 20, 300, 1 << 16]),
)
def test_any_mix_of_views_and_gathered_parts_gives_the_format(
    length: int, segment_size: int, sizes: list[int], gather_below: int
) -> None:
    # Long enough for many segments of each size (binary strategies stay short).
    plaintext = os.urandom(length)
    key = new_data_key()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(stream_module, "GATHER_BELOW", gather_below)
        # Copied piece by piece, so each buffer is free again before the next segment.
        streamed = bytearray()
        for piece in sealed(key, cut(plaintext, sizes), segment_size):
            streamed += piece
        kept = list(sealed(key, cut(plaintext, sizes), segment_size))

    assert bytes(streamed) == expected(key, plaintext, segment_size)
    assert b"".join(kept) == bytes(streamed)


def test_a_buffer_is_used_again_only_once_nothing_refers_to_it() -> None:
    key = new_data_key()
    segment_size = 4096
    plaintext = os.urandom(40 * segment_size)
    chunks = cut(plaintext, [1000, 5000, 3])

    kept = list(sealed(key, chunks, segment_size))
    copies = [bytes(piece) for piece in kept]
    dropped_ids = {id(piece) for piece in sealed(key, chunks, segment_size)}

    # Every segment the caller holds is a buffer of its own, unchanged by the ones after it...
    assert len({id(piece) for piece in kept}) == len(kept)
    assert [bytes(piece) for piece in kept] == copies
    assert b"".join(kept) == expected(key, plaintext, segment_size)
    # ...while a caller that lets go of each one sees a handful of buffers go round.
    assert len(dropped_ids) < 10


def test_concurrent_streams_with_slow_consumers_each_get_their_own_bytes() -> None:
    segment_size = 1 << 16
    plaintexts = [os.urandom(20 * segment_size + n) for n in range(4)]
    results: list[bytes] = [b""] * len(plaintexts)
    key = new_data_key()

    def ingest(index: int) -> None:
        # A writer thread behind a queue holds several segments at once, as the local store does.
        backlog: queue.Queue[bytes | bytearray | None] = queue.Queue(maxsize=6)
        received = bytearray()

        def write() -> None:
            while (piece := backlog.get()) is not None:
                received.extend(piece)

        writer = threading.Thread(target=write)
        writer.start()
        for piece in sealed(key, cut(plaintexts[index], [1 << 20, 70_000, 100]), segment_size):
            backlog.put(piece)
        backlog.put(None)
        writer.join()
        results[index] = bytes(received)

    threads = [threading.Thread(target=ingest, args=(index,)) for index in range(len(plaintexts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == [expected(key, plaintext, segment_size) for plaintext in plaintexts]


def test_spare_buffers_come_back_once_released() -> None:
    spares = stream_module._SpareBuffers(8)
    first = spares.take(64)
    first_id = id(first)
    del first
    again = spares.take(64)
    other = spares.take(64)

    assert id(again) == first_id
    assert other is not again
    assert len(spares.take(65)) == 65


def test_without_exact_reference_counts_no_buffer_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream_module, "_reference_counts_are_exact", lambda: False)
    spares = stream_module._SpareBuffers(8)
    spares.take(64)

    assert spares._buffers == []
