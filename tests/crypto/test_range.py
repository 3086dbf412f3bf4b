"""Ranged decryption: the right bytes, from only the segments that hold them."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.crypto import decrypt_range, new_data_key, plaintext_size
from archive.crypto.stream import RANGE_READ_SIZE, EncryptedObject
from archive.errors import IntegrityFailure, RangeNotSatisfiable

from .support import CountingStore, encrypt

pytestmark = pytest.mark.fast

SEGMENT = 104
KEY = new_data_key()
OBJECT_ID = "b4d0e17a3c9f2865"
PLAINTEXT = os.urandom(1000)  # twelve segments
CIPHERTEXT = encrypt(KEY, OBJECT_ID, PLAINTEXT, SEGMENT)


def segment_spans(segment_size: int, ciphertext_length: int) -> list[tuple[int, int, int, int]]:
    """(plaintext start, plaintext end, stored start, stored end) of each segment, worked out
    from the documented layout rather than from the code under test."""
    spans, index, plain_start = [], 0, 0
    while True:
        stored_start = 40 if index == 0 else index * segment_size
        stored_end = min((index + 1) * segment_size, ciphertext_length)
        plain_end = plain_start + stored_end - stored_start - 16
        spans.append((plain_start, plain_end, stored_start, stored_end))
        if stored_end == ciphertext_length:
            return spans
        index, plain_start = index + 1, plain_end


def ranged(store: CountingStore, start: int, end: int, segment_size: int = SEGMENT) -> bytes:
    chunks = decrypt_range(
        KEY,
        OBJECT_ID,
        store.read,
        ciphertext_size=len(store.data),
        segment_size=segment_size,
        start=start,
        end=end,
    )
    return b"".join(chunks)


def bytes_read(store: CountingStore) -> set[int]:
    return {offset for start, length in store.reads for offset in range(start, start + length)}


@settings(max_examples=200, deadline=None)
@given(
    bounds=st.tuples(
        st.integers(min_value=0, max_value=len(PLAINTEXT)),
        st.integers(min_value=0, max_value=len(PLAINTEXT)),
    )
)
def test_any_range_returns_exactly_its_bytes_reading_only_its_segments(
    bounds: tuple[int, int],
) -> None:
    start, end = sorted(bounds)
    store = CountingStore(CIPHERTEXT)

    assert ranged(store, start, end) == PLAINTEXT[start:end]

    needed = [
        (stored_start, stored_end)
        for plain_start, plain_end, stored_start, stored_end in segment_spans(
            SEGMENT, len(CIPHERTEXT)
        )
        if start < end and plain_start < end and start < plain_end
    ]
    expected = (
        {offset for a, b in [(0, 40), *needed] for offset in range(a, b)} if needed else set()
    )
    assert bytes_read(store) == expected
    # Every byte is fetched once.
    assert sum(length for _, length in store.reads) == len(expected)


def test_the_empty_object_has_only_the_empty_range() -> None:
    store = CountingStore(encrypt(KEY, OBJECT_ID, b"", SEGMENT))

    assert ranged(store, 0, 0) == b""
    with pytest.raises(RangeNotSatisfiable) as caught:
        ranged(store, 0, 1)
    assert caught.value.size == 0


@pytest.mark.parametrize(("start", "end"), [(-1, 5), (5, 4), (0, 1001), (1001, 1001)])
def test_ranges_outside_the_object_are_refused_before_reading(start: int, end: int) -> None:
    store = CountingStore(CIPHERTEXT)

    with pytest.raises(RangeNotSatisfiable) as caught:
        ranged(store, start, end)

    assert caught.value.size == len(PLAINTEXT)
    assert store.reads == []


def test_large_ranges_are_read_a_few_segments_at_a_time() -> None:
    segment_size = 1 << 20
    plaintext = os.urandom(10 << 20)
    store = CountingStore(encrypt(KEY, OBJECT_ID, plaintext, segment_size))

    assert ranged(store, 5, len(plaintext) - 5, segment_size) == plaintext[5:-5]
    assert max(length for _, length in store.reads) <= max(segment_size, RANGE_READ_SIZE)
    assert len(store.reads) > 1


@settings(max_examples=100, deadline=None)
@given(position=st.integers(min_value=0, max_value=len(CIPHERTEXT) - 1), bit=st.integers(0, 7))
def test_altered_segments_in_the_range_fail(position: int, bit: int) -> None:
    altered = bytearray(CIPHERTEXT)
    altered[position] ^= 1 << bit
    spans = segment_spans(SEGMENT, len(CIPHERTEXT))
    # A range covering the altered segment (or the first one, for a header change).
    plain_start, plain_end, _, _ = next(
        (span for span in spans if span[2] <= position < span[3]), spans[0]
    )

    with pytest.raises(IntegrityFailure):
        ranged(CountingStore(bytes(altered)), plain_start, plain_end)


def test_a_segment_moved_to_another_place_fails() -> None:
    altered = (
        CIPHERTEXT[: 2 * SEGMENT]
        + CIPHERTEXT[3 * SEGMENT : 4 * SEGMENT]
        + CIPHERTEXT[3 * SEGMENT :]
    )

    with pytest.raises(IntegrityFailure):
        ranged(CountingStore(altered[: len(CIPHERTEXT)]), 200, 260)


def test_a_relabelled_object_fails() -> None:
    store = CountingStore(CIPHERTEXT)

    with pytest.raises(IntegrityFailure):
        b"".join(
            decrypt_range(
                KEY,
                "another-object",
                store.read,
                ciphertext_size=len(CIPHERTEXT),
                segment_size=SEGMENT,
                start=500,
                end=600,
            )
        )


def test_a_stored_object_shorter_than_recorded_fails() -> None:
    store = CountingStore(CIPHERTEXT[:-10])

    with pytest.raises(IntegrityFailure, match="shorter than its recorded size"):
        b"".join(
            decrypt_range(
                KEY,
                OBJECT_ID,
                store.read,
                ciphertext_size=len(CIPHERTEXT),
                segment_size=SEGMENT,
                start=990,
                end=1000,
            )
        )


@pytest.mark.parametrize("claimed", [len(CIPHERTEXT) - 20, len(CIPHERTEXT) - SEGMENT])
def test_a_wrong_recorded_size_fails_when_the_end_is_read(claimed: int) -> None:
    # The finality flag of the last segment authenticates the object's length.
    store = CountingStore(CIPHERTEXT)
    claimed_end = plaintext_size(claimed, SEGMENT)

    with pytest.raises(IntegrityFailure):
        b"".join(
            decrypt_range(
                KEY,
                OBJECT_ID,
                store.read,
                ciphertext_size=claimed,
                segment_size=SEGMENT,
                start=claimed_end - 1,
                end=claimed_end,
            )
        )


def read_into_of(data: bytes) -> Callable[[int, memoryview], int]:
    def read_into(offset: int, buffer: memoryview) -> int:
        found = data[offset : offset + len(buffer)]
        buffer[: len(found)] = found
        return len(found)

    return read_into


def test_segments_decrypted_through_reused_buffers_are_the_plaintext() -> None:
    stored = EncryptedObject(
        KEY,
        OBJECT_ID,
        CountingStore(CIPHERTEXT).read,
        ciphertext_size=len(CIPHERTEXT),
        segment_size=SEGMENT,
    )
    ciphertext, plaintext = bytearray(SEGMENT), bytearray(SEGMENT)
    got = b"".join(
        bytes(stored.segment_into(index, read_into_of(CIPHERTEXT), ciphertext, plaintext))
        for index in reversed(range(stored.segment_count))
    )
    expected = [
        PLAINTEXT[stored.plaintext_start(index) : stored.plaintext_start(index + 1)]
        for index in reversed(range(stored.segment_count))
    ]
    assert got == b"".join(expected)


@pytest.mark.parametrize("change", ["flip", "truncate"])
def test_a_segment_altered_or_cut_short_fails_through_reused_buffers(change: str) -> None:
    altered = bytearray(CIPHERTEXT)
    if change == "flip":
        altered[5 * SEGMENT + 3] ^= 1
    else:
        del altered[5 * SEGMENT + 3 :]
    stored = EncryptedObject(
        KEY,
        OBJECT_ID,
        CountingStore(bytes(altered)).read,
        ciphertext_size=len(CIPHERTEXT),
        segment_size=SEGMENT,
    )
    with pytest.raises(IntegrityFailure):
        stored.segment_into(5, read_into_of(bytes(altered)), bytearray(SEGMENT), bytearray(SEGMENT))
