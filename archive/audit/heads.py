"""Signed tree heads: the audit log's Merkle root at a size and a time, signed with Ed25519.

A head's signed document is, encoded canonically (see `archive.audit.chain.canonical`):

    {"at": "2026-03-02T09:30:00.000000Z", "format": "audit-tree-head/v1",
     "key_id": "ed25519-<16 hex digits>", "root_hash": "<64 hex digits>", "tree_size": 42}

and its signature is Ed25519 over those bytes. Anyone with the public key checks a head; only
the holder of the signing key makes one. The key id is the first 16 hex digits of SHA-256 over
the raw 32-byte public key, so a verifier knows which of the published keys to use.

The signing key is `audit_signing_key` in the key material (a 32-byte Ed25519 seed, base64).
Rotating it moves the old public key to `audit_retired_keys`, so heads signed before the
rotation still verify while the old private key is gone.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from archive.audit.chain import canonical, timestamp
from archive.crypto.keyring import KEY_SIZE, KeyMaterial
from archive.errors import ConfigurationError

HEAD_FORMAT = "audit-tree-head/v1"
SIGNING_KEY_FIELD = "audit_signing_key"
RETIRED_KEYS_FIELD = "audit_retired_keys"
HASH_SIZE = 32


@dataclass(frozen=True)
class TreeHead:
    """What a signed head says, and its signature."""

    tree_size: int
    root_hash: bytes
    at: datetime
    key_id: str
    signature: bytes

    def document(self) -> dict[str, Any]:
        """What is signed."""
        return {
            "format": HEAD_FORMAT,
            "tree_size": self.tree_size,
            "root_hash": self.root_hash.hex(),
            "at": timestamp(self.at),
            "key_id": self.key_id,
        }

    def to_json(self) -> dict[str, Any]:
        """The head as published: the signed document and its signature (base64)."""
        return {**self.document(), "signature": base64.b64encode(self.signature).decode()}

    @classmethod
    def from_json(cls, value: object) -> TreeHead:
        """A published head read back; ValueError when it is not one."""
        if not isinstance(value, Mapping) or value.get("format") != HEAD_FORMAT:
            raise ValueError(f"not an {HEAD_FORMAT} document")
        try:
            size, root, at = value["tree_size"], value["root_hash"], value["at"]
            key_id, signature = value["key_id"], value["signature"]
            if not isinstance(size, int) or isinstance(size, bool) or size < 0:
                raise ValueError("tree_size is a whole number")
            if not all(isinstance(v, str) for v in (root, at, key_id, signature)):
                raise ValueError("root_hash, at, key_id and signature are strings")
            head = cls(
                tree_size=size,
                root_hash=bytes.fromhex(root),
                at=datetime.fromisoformat(at),
                key_id=key_id,
                signature=base64.b64decode(signature, validate=True),
            )
        except (KeyError, binascii.Error) as error:
            raise ValueError(f"a tree head lacks or garbles {error}") from None
        if len(head.root_hash) != HASH_SIZE or head.at.tzinfo is None:
            raise ValueError("a tree head's root is 32 bytes and its time has a zone")
        return head


LINEAGE_FORMAT = "audit-lineage-start/v1"


@dataclass(frozen=True)
class LineageStart:
    """The signed start of a lineage of heads after the first (see `archive.audit.witness`):
    which lineage, and the head of the lineage before that the restored log goes on from."""

    lineage: int
    fork: TreeHead
    at: datetime
    key_id: str
    signature: bytes

    def document(self) -> dict[str, Any]:
        """What is signed."""
        return {
            "format": LINEAGE_FORMAT,
            "lineage": self.lineage,
            "fork": self.fork.to_json(),
            "at": timestamp(self.at),
            "key_id": self.key_id,
        }

    def to_json(self) -> dict[str, Any]:
        return {**self.document(), "signature": base64.b64encode(self.signature).decode()}

    @classmethod
    def from_json(cls, value: object) -> LineageStart:
        """A lineage's start read back; ValueError when it is not one."""
        if not isinstance(value, Mapping) or value.get("format") != LINEAGE_FORMAT:
            raise ValueError(f"not an {LINEAGE_FORMAT} document")
        try:
            lineage, at = value["lineage"], value["at"]
            key_id, signature = value["key_id"], value["signature"]
            if not isinstance(lineage, int) or isinstance(lineage, bool) or lineage < 1:
                raise ValueError("lineage is a whole number from 1")
            if not all(isinstance(v, str) for v in (at, key_id, signature)):
                raise ValueError("at, key_id and signature are strings")
            moment = datetime.fromisoformat(at)
            return cls(
                lineage,
                TreeHead.from_json(value["fork"]),
                moment,
                key_id,
                base64.b64decode(signature, validate=True),
            )
        except (KeyError, binascii.Error) as error:
            raise ValueError(f"not an {LINEAGE_FORMAT} document: {error}") from None


def sign_lineage_start(
    key: Ed25519PrivateKey, *, lineage: int, fork: TreeHead, at: datetime
) -> LineageStart:
    unsigned = LineageStart(lineage, fork, at, key_id_of(key.public_key()), b"")
    return replace(unsigned, signature=key.sign(canonical(unsigned.document())))


def lineage_start_problem(
    start: LineageStart, lineage: int, keys: Mapping[str, Ed25519PublicKey]
) -> str | None:
    """Why a lineage's start cannot be trusted, or None when it and its fork head hold."""
    if start.lineage != lineage:
        return f"its start is that of lineage {start.lineage}, not {lineage}"
    problem = signature_problem(start.key_id, start.signature, canonical(start.document()), keys)
    if problem is None:
        problem = head_problem(start.fork, keys)
    return problem


def key_id_of(public: Ed25519PublicKey) -> str:
    return "ed25519-" + hashlib.sha256(public.public_bytes_raw()).hexdigest()[:16]


def signing_key(material: KeyMaterial) -> Ed25519PrivateKey:
    """The key that signs new heads; ConfigurationError when the key material lacks it."""
    value = material.extra.get(SIGNING_KEY_FIELD)
    if value is None:
        raise ConfigurationError(
            "the key material has no audit_signing_key, the Ed25519 key that signs the audit "
            "log's tree heads: `archive init` adds one to a key file; with ARCHIVE_KEYS add 32 "
            "random bytes, base64, under that name",
            field=SIGNING_KEY_FIELD,
        )
    seed = _decode(value, SIGNING_KEY_FIELD)
    if seed == material.blind_index_key or seed in material.keyring.keks.values():
        raise ConfigurationError(
            "audit_signing_key must differ from the blind index key and every KEK",
            field=SIGNING_KEY_FIELD,
        )
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_keys(material: KeyMaterial) -> dict[str, Ed25519PublicKey]:
    """Every key a head may be signed with, by key id: the active one and the retired ones."""
    found: dict[str, Ed25519PublicKey] = {}
    retired = material.extra.get(RETIRED_KEYS_FIELD, [])
    if not isinstance(retired, list):
        raise ConfigurationError(f"{RETIRED_KEYS_FIELD} is a list", field=RETIRED_KEYS_FIELD)
    for value in retired:
        public = Ed25519PublicKey.from_public_bytes(_decode(value, RETIRED_KEYS_FIELD))
        found[key_id_of(public)] = public
    if SIGNING_KEY_FIELD in material.extra:
        public = signing_key(material).public_key()
        found[key_id_of(public)] = public
    return found


def encoded_public_keys(material: KeyMaterial) -> dict[str, str]:
    """The public keys as an auditor receives them: key id to raw key, base64."""
    return {
        key_id: base64.b64encode(public.public_bytes_raw()).decode()
        for key_id, public in public_keys(material).items()
    }


def with_new_signing_key(material: KeyMaterial, seed: bytes) -> KeyMaterial:
    """The same material signing with `seed` from now on; the old public key is kept."""
    retired = list(material.extra.get(RETIRED_KEYS_FIELD, []))
    if SIGNING_KEY_FIELD in material.extra:
        old = signing_key(material).public_key().public_bytes_raw()
        retired.append(base64.b64encode(old).decode())
    extra = {
        **material.extra,
        SIGNING_KEY_FIELD: base64.b64encode(seed).decode(),
        RETIRED_KEYS_FIELD: retired,
    }
    return KeyMaterial(material.keyring, material.blind_index_key, extra)


def sign_head(
    key: Ed25519PrivateKey, *, tree_size: int, root_hash: bytes, at: datetime
) -> TreeHead:
    unsigned = TreeHead(tree_size, root_hash, at, key_id_of(key.public_key()), b"")
    return TreeHead(
        tree_size, root_hash, at, unsigned.key_id, key.sign(canonical(unsigned.document()))
    )


def sign_document(key: Ed25519PrivateKey, document: bytes) -> tuple[str, bytes]:
    """(key id, signature) of `document` under the audit log's signing key: for what the
    archive keeps outside the database besides heads (the deletion journal, a lineage's start),
    so that whoever can write there, but holds no key, cannot forge it."""
    return key_id_of(key.public_key()), key.sign(document)


def signature_problem(
    key_id: str, signature: bytes, document: bytes, keys: Mapping[str, Ed25519PublicKey]
) -> str | None:
    """Why a signature made by `sign_document` cannot be trusted, or None when it holds."""
    public = keys.get(key_id)
    if public is None:
        return f"signed with {key_id}, which is not one of the audit log's keys"
    try:
        public.verify(signature, document)
    except InvalidSignature:
        return "its signature does not match: it was forged or altered"
    return None


def head_problem(head: TreeHead, keys: Mapping[str, Ed25519PublicKey]) -> str | None:
    """Why a head cannot be trusted, or None when its signature holds."""
    public = keys.get(head.key_id)
    if public is None:
        return f"signed with {head.key_id}, which is not one of the audit log's keys"
    try:
        public.verify(head.signature, canonical(head.document()))
    except InvalidSignature:
        return "its signature does not match: the head was forged or altered"
    return None


def _decode(value: object, name: str) -> bytes:
    if not isinstance(value, str):
        raise ConfigurationError(f"{name} holds base64 strings", field=name)
    try:
        raw = base64.b64decode(value, validate=True)
    except binascii.Error:
        raise ConfigurationError(f"{name} is not valid base64", field=name) from None
    if len(raw) != KEY_SIZE:
        raise ConfigurationError(f"{name} holds {KEY_SIZE}-byte keys", field=name)
    return raw
