"""Streaming encryption: round trips, sizes, and every way a stored object can be altered."""

from __future__ import annotations

import itertools
import os
import tracemalloc
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.crypto import (
    ciphertext_size,
    decrypt_stream,
    encrypt_stream,
    new_data_key,
    plaintext_size,
)
from archive.errors import IntegrityFailure

from .support import (
    decrypt,
    decrypt_until_failure,
    encrypt,
    hkdf_sha256,
    reference_encrypt,
    split_segments,
)

pytestmark = pytest.mark.fast

SEGMENT = 104  # 48 plaintext bytes in the first segment, 88 in each later one
KEY = bytes(range(32))
OBJECT_ID = "5f0c2d7e91ab4e36"
PLAINTEXT = bytes(range(256)) + b"call recording " * 6  # five segments, the last one short
CIPHERTEXT = encrypt(KEY, OBJECT_ID, PLAINTEXT, SEGMENT)


def cut(data: bytes, points: list[int]) -> list[bytes]:
    """`data` in pieces, cut at the given offsets (any order, repeats give empty pieces)."""
    bounds = [0, *sorted(point % (len(data) + 1) for point in points), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


@settings(max_examples=150, deadline=None)
@given(
    plaintext=st.binary(max_size=700),
    segment_size=st.sampled_from([104, 105, 137, 256]),
    encrypt_cuts=st.lists(st.integers(min_value=0), max_size=12),
    decrypt_cuts=st.lists(st.integers(min_value=0), max_size=12),
)
def test_round_trip_for_any_chunking(
    plaintext: bytes, segment_size: int, encrypt_cuts: list[int], decrypt_cuts: list[int]
) -> None:
    key = new_data_key()
    ciphertext = b"".join(
        encrypt_stream(key, OBJECT_ID, cut(plaintext, encrypt_cuts), segment_size=segment_size)
    )
    pieces = cut(ciphertext, decrypt_cuts)

    assert len(ciphertext) == ciphertext_size(len(plaintext), segment_size)
    assert b"".join(decrypt_stream(key, OBJECT_ID, pieces, segment_size=segment_size)) == plaintext


@pytest.mark.parametrize("length", [0, 1, 47, 48, 49, 135, 136, 137, 223, 224, 225, 1000])
def test_sizes_around_segment_boundaries(length: int) -> None:
    plaintext = os.urandom(length)
    ciphertext = encrypt(KEY, OBJECT_ID, plaintext, SEGMENT)

    assert len(ciphertext) == ciphertext_size(length, SEGMENT)
    assert plaintext_size(len(ciphertext), SEGMENT) == length
    assert decrypt(KEY, OBJECT_ID, ciphertext, SEGMENT) == plaintext
    _, segments = split_segments(ciphertext, SEGMENT)
    assert all(len(segment) == SEGMENT for segment in segments[1:-1])
    assert len(segments[0]) == SEGMENT - 40 or len(segments) == 1


@pytest.mark.parametrize("length", [0, 1, 48, 64, 136, 152, 224, 240, 1000])
def test_chunks_of_the_segment_size_decrypt_and_truncations_at_them_fail(length: int) -> None:
    # A store reads in chunks of the segment size, so every chunk ends where a segment does.
    plaintext = os.urandom(length)
    ciphertext = encrypt(KEY, OBJECT_ID, plaintext, SEGMENT)
    chunks = [ciphertext[at : at + SEGMENT] for at in range(0, len(ciphertext), SEGMENT)]

    assert b"".join(decrypt_stream(KEY, OBJECT_ID, chunks, segment_size=SEGMENT)) == plaintext
    for kept in range(1, len(chunks)):
        with pytest.raises(IntegrityFailure):
            b"".join(decrypt_stream(KEY, OBJECT_ID, chunks[:kept], segment_size=SEGMENT))


def test_empty_input_is_a_header_and_a_bare_tag() -> None:
    for chunks in ([], [b""], [b"", b""]):
        ciphertext = b"".join(encrypt_stream(KEY, OBJECT_ID, chunks, segment_size=SEGMENT))
        assert len(ciphertext) == 40 + 16
        assert decrypt(KEY, OBJECT_ID, ciphertext, SEGMENT) == b""


def test_the_default_segment_size_puts_the_header_in_the_first_mebibyte() -> None:
    plaintext = os.urandom((1 << 20) - 56 + 1)
    ciphertext = b"".join(encrypt_stream(KEY, OBJECT_ID, [plaintext]))

    assert len(ciphertext) == (1 << 20) + 1 + 16
    assert b"".join(decrypt_stream(KEY, OBJECT_ID, [ciphertext])) == plaintext


@given(size=st.integers(min_value=0, max_value=2000))
def test_plaintext_size_inverts_ciphertext_size(size: int) -> None:
    assert plaintext_size(ciphertext_size(size, SEGMENT), SEGMENT) == size
    try:
        plain = plaintext_size(size, SEGMENT)
    except IntegrityFailure:
        return
    assert ciphertext_size(plain, SEGMENT) == size


@pytest.mark.parametrize("size", [0, 1, 40, 55, 104 + 1, 104 + 16, 2 * 104 + 16])
def test_impossible_ciphertext_sizes_are_integrity_failures(size: int) -> None:
    with pytest.raises(IntegrityFailure, match="no object"):
        plaintext_size(size, SEGMENT)


def test_mutable_and_reused_input_buffers_are_read_correctly() -> None:
    buffer = bytearray(30)

    def refill() -> Iterator[bytearray]:
        # A reader that fills one buffer again and again, as file readinto loops do.
        for start in range(0, len(PLAINTEXT), 30):
            piece = PLAINTEXT[start : start + 30]
            buffer[: len(piece)] = piece
            del buffer[len(piece) :]
            yield buffer

    ciphertext = b"".join(encrypt_stream(KEY, OBJECT_ID, refill(), segment_size=SEGMENT))
    views = [memoryview(CIPHERTEXT)[:100], memoryview(CIPHERTEXT)[100:]]

    assert decrypt(KEY, OBJECT_ID, ciphertext, SEGMENT) == PLAINTEXT
    assert b"".join(decrypt_stream(KEY, OBJECT_ID, views, segment_size=SEGMENT)) == PLAINTEXT


def test_encryption_streams_input_of_unknown_length() -> None:
    endless = itertools.repeat(b"x" * 1000)

    first = list(itertools.islice(encrypt_stream(KEY, OBJECT_ID, endless, segment_size=SEGMENT), 4))

    assert [len(piece) for piece in first] == [40, 64, 104, 104]


def test_memory_stays_near_two_segments() -> None:
    segment_size = 1 << 20
    chunk = os.urandom(1 << 16)
    total = 24 << 20
    tracemalloc.start()
    try:
        produced = 0
        chunks = itertools.repeat(chunk, total // len(chunk))
        for piece in encrypt_stream(KEY, OBJECT_ID, chunks, segment_size=segment_size):
            produced += len(piece)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert produced == ciphertext_size(total, segment_size)
    # The gathering buffer, the segment being encrypted and the one the loop above still holds.
    assert peak < 3.5 * segment_size


@settings(max_examples=300, deadline=None)
@given(position=st.integers(min_value=0, max_value=len(CIPHERTEXT) - 1), bit=st.integers(0, 7))
def test_any_flipped_bit_fails_and_nothing_unverified_is_yielded(position: int, bit: int) -> None:
    altered = bytearray(CIPHERTEXT)
    altered[position] ^= 1 << bit

    received, failure = decrypt_until_failure(KEY, OBJECT_ID, bytes(altered), SEGMENT)

    # Every segment before the altered one is released, nothing of it or after it.
    altered_segment = position // SEGMENT
    assert failure is not None
    assert received == PLAINTEXT[: max(altered_segment * (SEGMENT - 16) - 40, 0)]


def test_truncation_at_every_length_fails() -> None:
    for length in range(len(CIPHERTEXT)):
        received, failure = decrypt_until_failure(KEY, OBJECT_ID, CIPHERTEXT[:length], SEGMENT)
        assert failure is not None, length
        assert PLAINTEXT.startswith(received)


def rebuild(header: bytes, segments: list[bytes]) -> bytes:
    return header + b"".join(segments)


def test_dropped_reordered_and_duplicated_segments_fail() -> None:
    header, segments = split_segments(CIPHERTEXT, SEGMENT)
    assert len(segments) == 5
    variants = {
        "dropped middle": segments[:2] + segments[3:],
        "dropped last": segments[:-1],
        "dropped first": segments[1:],
        "swapped": [segments[0], segments[2], segments[1], *segments[3:]],
        "duplicated": [*segments[:2], segments[1], *segments[2:]],
        "last moved": [*segments[:2], segments[4], segments[3]],
    }

    for name, variant in variants.items():
        _, failure = decrypt_until_failure(KEY, OBJECT_ID, rebuild(header, variant), SEGMENT)
        assert failure is not None, name


@given(garbage=st.binary(min_size=1, max_size=300))
def test_appended_data_fails(garbage: bytes) -> None:
    _, failure = decrypt_until_failure(KEY, OBJECT_ID, CIPHERTEXT + garbage, SEGMENT)

    assert failure is not None


def test_an_object_relabelled_with_another_id_fails() -> None:
    with pytest.raises(IntegrityFailure, match="segment 0 failed authentication"):
        decrypt(KEY, "another-object", CIPHERTEXT, SEGMENT)


def test_the_wrong_key_fails() -> None:
    with pytest.raises(IntegrityFailure, match="wrong key"):
        decrypt(new_data_key(), OBJECT_ID, CIPHERTEXT, SEGMENT)


def test_the_wrong_segment_size_fails() -> None:
    with pytest.raises(IntegrityFailure):
        decrypt(KEY, OBJECT_ID, CIPHERTEXT, SEGMENT + 1)


def test_a_header_with_another_length_byte_fails() -> None:
    altered = bytes([41]) + CIPHERTEXT[1:]

    with pytest.raises(IntegrityFailure, match="header is malformed"):
        decrypt(KEY, OBJECT_ID, altered, SEGMENT)


def test_an_empty_final_segment_after_a_full_one_is_refused() -> None:
    # Only someone holding the key could write this; the encryptor never does, so the format
    # forbids it and every object size has exactly one reading.
    salt, prefix = bytes(32), bytes(7)
    forged = reference_encrypt(KEY, OBJECT_ID, salt, prefix, [PLAINTEXT[:48], b""])

    with pytest.raises(IntegrityFailure, match="truncated"):
        decrypt(KEY, OBJECT_ID, forged, SEGMENT)
    with pytest.raises(IntegrityFailure, match="no object"):
        plaintext_size(len(forged), SEGMENT)


def test_failures_never_reveal_key_material() -> None:
    with pytest.raises(IntegrityFailure) as caught:
        decrypt(KEY, "another-object", CIPHERTEXT, SEGMENT)

    derived = hkdf_sha256(KEY, CIPHERTEXT[1:33], b"contact-archive/object/v1:" + b"x", 32)
    for secret in (KEY, derived):
        assert secret.hex() not in str(caught.value)
        assert repr(secret) not in str(caught.value)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"key": bytes(16)}, "data key"),
        ({"segment_size": 103}, "segment size"),
        ({"segment_size": (1 << 26) + 1}, "segment size"),
        ({"salt": bytes(31)}, "salt"),
        ({"nonce_prefix": bytes(8)}, "nonce prefix"),
        ({"object_id": ""}, "object id"),
    ],
)
def test_bad_arguments_are_refused_before_any_output(
    arguments: dict[str, object], message: str
) -> None:
    call = {"key": KEY, "object_id": OBJECT_ID, "chunks": [b"x"], **arguments}

    with pytest.raises(ValueError, match=message):
        encrypt_stream(**call)  # type: ignore[arg-type]
