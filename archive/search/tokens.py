"""The search key, and the blind token each term is stored as.

A token is HMAC-SHA-256 under the search key of the term, cut to its first 64 bits and read as
a signed integer, so PostgreSQL and SQLite store and index it as one BIGINT. Why 64 bits is
enough (two terms sharing a token cost one extra hit, never a missed one) is in
docs/search.md.
"""

from __future__ import annotations

import base64
import binascii

from cryptography.hazmat.primitives import hashes, hmac

from archive.crypto.keyring import KEY_SIZE, KeyMaterial
from archive.errors import ConfigurationError

SEARCH_KEY_FIELD = "search_key"
TOKEN_BYTES = 8
# Versioned, so a later change of the rules of `text` can live beside the old tokens.
_DOMAIN = b"contact-archive/search/v1\x00"


def search_key(material: KeyMaterial) -> bytes:
    """The 32-byte key of the search index, `search_key` in the key material (base64)."""
    value = material.extra.get(SEARCH_KEY_FIELD)
    if value is None:
        raise ConfigurationError(
            f"the key material has no {SEARCH_KEY_FIELD}, the key of the search index's "
            "tokens: `archive init` adds one to a key file; with ARCHIVE_KEYS add 32 random "
            "bytes, base64, under that name",
            field=SEARCH_KEY_FIELD,
        )
    if not isinstance(value, str):
        raise ConfigurationError(f"{SEARCH_KEY_FIELD} must be a base64 string")
    try:
        key = base64.b64decode(value, validate=True)
    except binascii.Error:
        raise ConfigurationError(f"{SEARCH_KEY_FIELD} is not valid base64") from None
    if len(key) != KEY_SIZE:
        raise ConfigurationError(f"{SEARCH_KEY_FIELD} is {len(key)} bytes; {KEY_SIZE} expected")
    return key


class Tokeniser:
    """Terms to blind tokens under one search key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_SIZE:
            raise ValueError(f"a search key is {KEY_SIZE} bytes")
        self._base = hmac.HMAC(key, hashes.SHA256())
        self._base.update(_DOMAIN)

    def token(self, term: str) -> int:
        digest = self._base.copy()
        digest.update(term.encode())
        return int.from_bytes(digest.finalize()[:TOKEN_BYTES], "big", signed=True)
