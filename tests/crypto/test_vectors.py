"""The fixed test vectors, cross-checked by an independent recomputation."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import re
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from archive.crypto import (
    Keyring,
    blind_index,
    ciphertext_size,
    decrypt_field,
    decrypt_stream,
    encrypt_stream,
    plaintext_size,
)

from .support import VECTORS, hkdf_sha256, reference_encrypt, split_segments

pytestmark = pytest.mark.fast

STREAMS: list[dict[str, Any]] = VECTORS["streams"]


@pytest.mark.parametrize("vector", STREAMS, ids=[vector["name"] for vector in STREAMS])
def test_encryption_reproduces_the_vector(vector: dict[str, Any]) -> None:
    produced = encrypt_stream(
        bytes.fromhex(vector["key"]),
        vector["object_id"],
        [bytes.fromhex(vector["plaintext"])],
        segment_size=vector["segment_size"],
        salt=bytes.fromhex(vector["salt"]),
        nonce_prefix=bytes.fromhex(vector["nonce_prefix"]),
    )

    assert b"".join(produced).hex() == vector["ciphertext"]


@pytest.mark.parametrize("vector", STREAMS, ids=[vector["name"] for vector in STREAMS])
def test_decryption_recovers_the_vector(vector: dict[str, Any]) -> None:
    ciphertext = bytes.fromhex(vector["ciphertext"])
    recovered = decrypt_stream(
        bytes.fromhex(vector["key"]),
        vector["object_id"],
        [ciphertext],
        segment_size=vector["segment_size"],
    )

    assert b"".join(recovered).hex() == vector["plaintext"]
    plain_length = len(vector["plaintext"]) // 2
    assert ciphertext_size(plain_length, vector["segment_size"]) == len(ciphertext)
    assert plaintext_size(len(ciphertext), vector["segment_size"]) == plain_length


def test_vectors_cover_the_required_shapes() -> None:
    segment_counts = {
        vector["name"]: len(split_segments(bytes.fromhex(vector["ciphertext"]), 104)[1])
        for vector in STREAMS
    }

    assert segment_counts == {
        "empty": 1,
        "one full first segment": 1,
        "two full segments": 2,
        "four segments, short last": 4,
    }
    assert len(bytes.fromhex(STREAMS[0]["ciphertext"])) == 40 + 16


def test_multi_segment_vector_matches_an_independent_recomputation() -> None:
    vector = STREAMS[-1]
    plaintext = bytes.fromhex(vector["plaintext"])
    # The first segment holds S - 40 - 16 plaintext bytes, every later full one S - 16.
    cuts = [0, 48, 136, 224, len(plaintext)]
    segments = [plaintext[a:b] for a, b in itertools.pairwise(cuts)]

    expected = reference_encrypt(
        bytes.fromhex(vector["key"]),
        vector["object_id"],
        bytes.fromhex(vector["salt"]),
        bytes.fromhex(vector["nonce_prefix"]),
        segments,
    )

    assert expected.hex() == vector["ciphertext"]
    header, stored = split_segments(expected, 104)
    assert header[0] == 40
    assert [len(segment) for segment in stored] == [64, 104, 104, 46]


def test_wrap_vector_unwraps_and_matches_a_recomputation() -> None:
    vector = VECTORS["wrap"]
    kek, nonce = bytes.fromhex(vector["kek"]), bytes.fromhex(vector["nonce"])
    keyring = Keyring({vector["kek_id"]: kek}, vector["kek_id"])

    data_key = keyring.unwrap(vector["kek_id"], bytes.fromhex(vector["wrapped"]), vector["context"])

    assert data_key.hex() == vector["data_key"]
    aad = f"contact-archive/wrap/v1:{vector['kek_id']}:{vector['context']}".encode()
    recomputed = b"\x01" + nonce + AESGCM(kek).encrypt(nonce, data_key, aad)
    assert recomputed.hex() == vector["wrapped"]


def test_field_vector_decrypts_and_matches_a_recomputation() -> None:
    vector = VECTORS["field"]
    key, nonce = bytes.fromhex(vector["data_key"]), bytes.fromhex(vector["nonce"])

    value = decrypt_field(key, bytes.fromhex(vector["blob"]), vector["context"])

    assert value == vector["value"]
    aad = f"contact-archive/field/v1:{vector['context']}".encode()
    recomputed = b"\x01" + nonce + AESGCM(key).encrypt(nonce, value.encode(), aad)
    assert recomputed.hex() == vector["blob"]


def test_blind_index_vector_matches_the_standard_library_hmac() -> None:
    vector = VECTORS["blind_index"]
    key = bytes.fromhex(vector["key"])

    index = blind_index(key, vector["kind"], vector["normalised"])

    assert index.hex() == vector["index"]
    message = f"{vector['kind']}\x00{vector['normalised']}".encode()
    assert hmac.new(key, message, hashlib.sha256).hexdigest() == vector["index"]


def test_reference_hkdf_matches_rfc_5869_case_1() -> None:
    okm = hkdf_sha256(bytes([0x0B] * 22), bytes(range(13)), bytes(range(0xF0, 0xFA)), 42)

    assert okm.hex() == (
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
    )


def test_the_documentation_lists_the_same_vectors() -> None:
    document = (Path(__file__).parents[2] / "docs" / "encryption.md").read_text(encoding="utf-8")
    # Long hex values are wrapped over indented lines there.
    flat = re.sub(r"\n +", "", document)

    for vector in STREAMS:
        assert vector["ciphertext"] in flat, vector["name"]
    assert VECTORS["wrap"]["wrapped"] in flat
    assert VECTORS["field"]["blob"] in flat
    assert VECTORS["blind_index"]["index"] in flat
