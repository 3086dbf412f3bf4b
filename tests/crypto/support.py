"""Helpers shared by the crypto tests: an independent reference encryptor and a counting store."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from archive.crypto import decrypt_stream, encrypt_stream
from archive.errors import IntegrityFailure

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent / "vectors.json").read_text(encoding="utf-8")
)


def hkdf_sha256(ikm: bytes, salt: bytes, info: bytes, length: int) -> bytes:
    """RFC 5869 HKDF written out with the standard library, independent of the code under test."""
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    okm, block, counter = b"", b"", 1
    while len(okm) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        okm += block
        counter += 1
    return okm[:length]


def reference_encrypt(
    key: bytes, object_id: str, salt: bytes, nonce_prefix: bytes, segments: list[bytes]
) -> bytes:
    """The streaming format written out segment by segment, as the documentation states it."""
    segment_key = hkdf_sha256(key, salt, b"contact-archive/object/v1:" + object_id.encode(), 32)
    aead = AESGCM(segment_key)
    out = [bytes([40]), salt, nonce_prefix]
    for index, plain in enumerate(segments):
        last = b"\x01" if index == len(segments) - 1 else b"\x00"
        out.append(aead.encrypt(nonce_prefix + index.to_bytes(4, "big") + last, plain, None))
    return b"".join(out)


def encrypt(key: bytes, object_id: str, plaintext: bytes, segment_size: int) -> bytes:
    return b"".join(encrypt_stream(key, object_id, [plaintext], segment_size=segment_size))


def decrypt(key: bytes, object_id: str, ciphertext: bytes, segment_size: int) -> bytes:
    return b"".join(decrypt_stream(key, object_id, [ciphertext], segment_size=segment_size))


def split_segments(ciphertext: bytes, segment_size: int) -> tuple[bytes, list[bytes]]:
    """The header and each ciphertext segment of a stored object."""
    header, body = ciphertext[:40], ciphertext[40:]
    cuts = [0, segment_size - 40]
    while cuts[-1] < len(body):
        cuts.append(cuts[-1] + segment_size)
    return header, [body[a:b] for a, b in itertools.pairwise(cuts)]


def decrypt_until_failure(
    key: bytes, object_id: str, ciphertext: bytes, segment_size: int
) -> tuple[bytes, IntegrityFailure | None]:
    """Plaintext yielded before decryption stopped, and the failure that stopped it, if any."""
    received = []
    try:
        for piece in decrypt_stream(key, object_id, [ciphertext], segment_size=segment_size):
            received.append(piece)
    except IntegrityFailure as failure:
        return b"".join(received), failure
    return b"".join(received), None


@dataclass
class CountingStore:
    """Stored ciphertext that records every read made of it."""

    data: bytes
    reads: list[tuple[int, int]] = field(default_factory=list)

    def read(self, offset: int, length: int) -> bytes:
        self.reads.append((offset, length))
        return self.data[offset : offset + length]
