"""Encrypted identifier fields and blind indexes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archive.crypto import blind_index, decrypt_field, encrypt_field, new_data_key
from archive.errors import IntegrityFailure

pytestmark = pytest.mark.fast

KEY = new_data_key()
CONTEXT = "customer:8e4f1a2b:phone"


@given(value=st.text(max_size=200))
def test_any_text_round_trips(value: str) -> None:
    assert decrypt_field(KEY, encrypt_field(KEY, value, CONTEXT), CONTEXT) == value


def test_the_blob_carries_a_version_a_random_nonce_and_a_tag() -> None:
    first = encrypt_field(KEY, "+358401234567", CONTEXT)
    second = encrypt_field(KEY, "+358401234567", CONTEXT)

    assert first != second
    assert first[0] == second[0] == 1
    assert len(first) == 1 + 12 + len("+358401234567") + 16
    assert b"358401234567" not in first


def test_a_field_moved_to_another_row_fails() -> None:
    blob = encrypt_field(KEY, "010190-123F", "customer:1:identity_code")

    with pytest.raises(IntegrityFailure, match="wrong context"):
        decrypt_field(KEY, blob, "customer:2:identity_code")


def test_the_wrong_key_fails() -> None:
    blob = encrypt_field(KEY, "maija@example.fi", CONTEXT)

    with pytest.raises(IntegrityFailure):
        decrypt_field(new_data_key(), blob, CONTEXT)


@given(position=st.integers(min_value=0, max_value=1 + 12 + 5 + 16 - 1), bit=st.integers(0, 7))
def test_any_altered_bit_fails(position: int, bit: int) -> None:
    blob = bytearray(encrypt_field(KEY, "Maija", CONTEXT))
    blob[position] ^= 1 << bit

    with pytest.raises(IntegrityFailure):
        decrypt_field(KEY, bytes(blob), CONTEXT)


@pytest.mark.parametrize("blob", [b"", b"\x01", b"\x01" + bytes(27), b"\x02" + bytes(40)])
def test_malformed_blobs_fail(blob: bytes) -> None:
    with pytest.raises(IntegrityFailure, match="malformed"):
        decrypt_field(KEY, blob, CONTEXT)


def test_a_key_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        encrypt_field(bytes(16), "x", CONTEXT)


def test_blind_indexes_are_deterministic_and_keyed() -> None:
    index = blind_index(KEY, "email", "maija@example.fi")

    assert len(index) == 32
    assert blind_index(KEY, "email", "maija@example.fi") == index
    assert blind_index(new_data_key(), "email", "maija@example.fi") != index
    assert blind_index(KEY, "name", "maija@example.fi") != index
    assert blind_index(KEY, "email", "matti@example.fi") != index


def test_the_separator_keeps_kind_and_value_apart() -> None:
    assert blind_index(KEY, "ab", "c") != blind_index(KEY, "a", "bc")


@pytest.mark.parametrize("kind", ["", "e\x00mail"])
def test_unusable_kinds_are_refused(kind: str) -> None:
    with pytest.raises(ValueError, match="kind"):
        blind_index(KEY, kind, "value")
