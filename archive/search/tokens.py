"""The search keys, and the blind token each term is stored as.

A token is HMAC-SHA-256 under the search key of the term, cut to its first 64 bits and read as
a signed integer, so PostgreSQL and SQLite store and index it as one BIGINT. Why 64 bits is
enough (two terms sharing a token cost one extra hit, never a missed one) is in
docs/search.md.

While `archive search reindex` rotates the key, the key material holds two: `search_key`, under
which the index was built, and `search_key_next`, under which it is being rebuilt. New contacts
are indexed under the next key, and a search looks for the tokens of both.
"""

from __future__ import annotations

import base64
import binascii

from cryptography.hazmat.primitives import hashes, hmac

from archive.crypto.keyring import KEY_SIZE, KeyMaterial
from archive.errors import ConfigurationError

SEARCH_KEY_FIELD = "search_key"
NEXT_KEY_FIELD = "search_key_next"
TOKEN_BYTES = 8
# Versioned, so a later change of the rules of `text` can live beside the old tokens.
_DOMAIN = b"contact-archive/search/v1\x00"


def key_id(key: bytes) -> str:
    """A name of a search key that gives nothing of it away, kept with each indexed contact."""
    digest = hmac.HMAC(key, hashes.SHA256())
    digest.update(b"contact-archive/search/key-id")
    return digest.finalize()[:6].hex()


def writing_key(material: KeyMaterial) -> bytes:
    """The key new postings are written under: the next key while one is being built."""
    return next_key(material) or search_key(material)


def reading_keys(material: KeyMaterial) -> list[bytes]:
    """The keys whose tokens a search looks for."""
    following = next_key(material)
    return [search_key(material), *([following] if following else [])]


def next_key(material: KeyMaterial) -> bytes | None:
    """The key the index is being rebuilt under, if a rotation is under way."""
    if NEXT_KEY_FIELD not in material.extra:
        return None
    return _decoded(material, NEXT_KEY_FIELD)


def search_key(material: KeyMaterial) -> bytes:
    """The 32-byte key of the search index, `search_key` in the key material (base64)."""
    return _decoded(material, SEARCH_KEY_FIELD)


def _decoded(material: KeyMaterial, name: str) -> bytes:
    value = material.extra.get(name)
    if value is None:
        raise ConfigurationError(
            f"the key material has no {SEARCH_KEY_FIELD}, the key of the search index's "
            "tokens: `archive init` adds one to a key file; with ARCHIVE_KEYS add 32 random "
            "bytes, base64, under that name",
            field=SEARCH_KEY_FIELD,
        )
    if not isinstance(value, str):
        raise ConfigurationError(f"{name} must be a base64 string", field=name)
    try:
        key = base64.b64decode(value, validate=True)
    except binascii.Error:
        raise ConfigurationError(f"{name} is not valid base64", field=name) from None
    if len(key) != KEY_SIZE:
        raise ConfigurationError(f"{name} is {len(key)} bytes; {KEY_SIZE} expected", field=name)
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
