"""Encrypted personal identifiers in the database, the sealed-value format, and blind indexes."""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from archive.errors import IntegrityFailure

KEY_SIZE = 32
NONCE_SIZE = 12
TAG_SIZE = 16
SEALED_VERSION = 0x01
FIELD_AD_PREFIX = b"contact-archive/field/v1:"


def encrypt_field(data_key: bytes, value: str, context: str) -> bytes:
    """Encrypt one identifier under its owning row's data key, bound to `context`."""
    return seal(data_key, value.encode(), FIELD_AD_PREFIX + context.encode())


def decrypt_field(data_key: bytes, blob: bytes, context: str) -> str:
    """Recover an identifier; IntegrityFailure for a wrong key, wrong context or altered blob."""
    return open_sealed(data_key, blob, FIELD_AD_PREFIX + context.encode(), what="field").decode()


def blind_index(key: bytes, kind: str, normalised: str) -> bytes:
    """Keyed digest of a normalised identifier, for equality lookups without decrypting."""
    _check_key(key)
    # The kind is part of the input so the same value as e-mail and as name never collide,
    # and the separator keeps ("ab", "c") apart from ("a", "bc").
    if not kind or "\x00" in kind:
        raise ValueError("blind index kind must be non-empty and free of NUL characters")
    digest = hmac.HMAC(key, hashes.SHA256())
    digest.update(kind.encode() + b"\x00" + normalised.encode())
    return digest.finalize()


def seal(key: bytes, plaintext: bytes, associated_data: bytes) -> bytes:
    """AES-256-GCM with a random nonce: version byte || nonce || ciphertext and tag."""
    _check_key(key)
    nonce = os.urandom(NONCE_SIZE)
    return bytes([SEALED_VERSION]) + nonce + AESGCM(key).encrypt(nonce, plaintext, associated_data)


def open_sealed(key: bytes, blob: bytes, associated_data: bytes, *, what: str) -> bytes:
    """Verify and decrypt a sealed value; `what` names it in the error message."""
    _check_key(key)
    if len(blob) < 1 + NONCE_SIZE + TAG_SIZE or blob[0] != SEALED_VERSION:
        raise IntegrityFailure(f"sealed {what} is malformed")
    nonce, ciphertext = blob[1 : 1 + NONCE_SIZE], blob[1 + NONCE_SIZE :]
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, associated_data)
    except InvalidTag:
        raise IntegrityFailure(
            f"sealed {what} failed authentication: wrong key, wrong context or altered data"
        ) from None


def _check_key(key: bytes) -> None:
    if len(key) != KEY_SIZE:
        raise ValueError(f"key must be {KEY_SIZE} bytes")
