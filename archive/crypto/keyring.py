"""Key-encryption keys that wrap data keys, and the key material loaded at start-up."""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from archive.crypto.fields import open_sealed, seal
from archive.errors import ConfigurationError, KeyUnavailable

KEY_SIZE = 32
KEY_FILE_FORMAT = "contact-archive-keys/v1"
WRAP_AD_PREFIX = b"contact-archive/wrap/v1:"
# Ids go into associated data after a ":" separator, so they must never contain one.
_KEK_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_KNOWN_FIELDS = frozenset({"format", "active_kek", "keks", "blind_index_key"})


def new_data_key() -> bytes:
    """A fresh random 32-byte data key."""
    return secrets.token_bytes(KEY_SIZE)


@dataclass(frozen=True)
class Keyring:
    """Key-encryption keys by id; the active one wraps, every one can unwrap."""

    keks: Mapping[str, bytes] = field(repr=False)
    active_id: str

    def __post_init__(self) -> None:
        for kek_id, kek in self.keks.items():
            if not _KEK_ID.fullmatch(kek_id):
                raise ConfigurationError(
                    f"KEK id {kek_id!r} must be 1-64 characters of A-Z, a-z, 0-9, '.', '_', '-'"
                )
            if len(kek) != KEY_SIZE:
                raise ConfigurationError(f"KEK {kek_id!r} is {len(kek)} bytes; {KEY_SIZE} expected")
        if self.active_id not in self.keks:
            raise ConfigurationError(f"active KEK {self.active_id!r} is not among the keys")
        # A private copy, so nobody can change the keyring after it was checked.
        object.__setattr__(self, "keks", MappingProxyType(dict(self.keks)))

    def wrap(self, data_key: bytes, context: str) -> tuple[str, bytes]:
        """Wrap a data key with the active KEK; returns (kek_id, wrapped)."""
        if len(data_key) != KEY_SIZE:
            raise ValueError(f"a data key is {KEY_SIZE} bytes")
        kek_id = self.active_id
        return kek_id, seal(self.keks[kek_id], data_key, _wrap_ad(kek_id, context))

    def unwrap(self, kek_id: str, wrapped: bytes, context: str) -> bytes:
        """Recover a data key; KeyUnavailable for an unknown KEK, IntegrityFailure if altered."""
        kek = self.keks.get(kek_id)
        if kek is None:
            raise KeyUnavailable(f"KEK {kek_id!r} is not in the keyring")
        return open_sealed(kek, wrapped, _wrap_ad(kek_id, context), what="data key")

    def with_new_kek(self, *, activate: bool = True) -> Keyring:
        """This keyring plus a freshly generated KEK, which becomes the active one unless
        `activate` is false (a staged key: every process can unwrap with it before any wraps)."""
        kek_id = _new_kek_id(self.keks)
        return Keyring(
            {**self.keks, kek_id: new_data_key()}, kek_id if activate else self.active_id
        )

    def activating(self, kek_id: str) -> Keyring:
        """This keyring with `kek_id`, already in it, as the active KEK."""
        if kek_id not in self.keks:
            raise ConfigurationError(f"KEK {kek_id!r} is not in the keyring: stage it first")
        return Keyring(self.keks, kek_id)


@dataclass(frozen=True)
class KeyMaterial:
    """Every secret the archive holds: the keyring, the blind-index key, and fields added later."""

    keyring: Keyring
    blind_index_key: bytes = field(repr=False)
    # Top-level key-file fields this version does not know; kept so a rewrite never drops them.
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if len(self.blind_index_key) != KEY_SIZE:
            raise ConfigurationError(f"blind index key must be {KEY_SIZE} bytes")
        # One secret, one job: a KEK reused as the blind-index key would tie the two together.
        if self.blind_index_key in self.keyring.keks.values():
            raise ConfigurationError("blind index key must differ from every KEK")
        clashes = _KNOWN_FIELDS & set(self.extra)
        if clashes:
            raise ConfigurationError(f"extra fields clash with key file fields: {sorted(clashes)}")
        object.__setattr__(self, "extra", MappingProxyType(dict(self.extra)))

    def with_new_kek(self, *, activate: bool = True) -> KeyMaterial:
        """The same material with a new KEK added (key rotation), active unless `activate` is
        false."""
        keyring = self.keyring.with_new_kek(activate=activate)
        return KeyMaterial(keyring, self.blind_index_key, self.extra)

    def activating(self, kek_id: str) -> KeyMaterial:
        """The same material with `kek_id`, a KEK it holds, as the active one."""
        return KeyMaterial(self.keyring.activating(kek_id), self.blind_index_key, self.extra)

    def to_json(self) -> str:
        """The key file's JSON text."""
        document: dict[str, Any] = {
            "format": KEY_FILE_FORMAT,
            "active_kek": self.keyring.active_id,
            "keks": {kek_id: _encode(kek) for kek_id, kek in self.keyring.keks.items()},
            "blind_index_key": _encode(self.blind_index_key),
            **self.extra,
        }
        return json.dumps(document, indent=2) + "\n"


# Secrets for jobs other than wrapping data keys, each its own: the accounts' (TOTP secrets,
# login-attempt keys), the audit trail's HMAC (erasure certificates, the old hash chain's
# checkpoints), the seed of the Ed25519 key that signs the audit log's tree heads, and the key
# of the search index's blind tokens.
PURPOSE_KEYS = ("account_key", "audit_key", "audit_signing_key", "search_key")


def generate_key_material() -> KeyMaterial:
    """Fresh key material: one KEK, a blind-index key, and one key for each other purpose."""
    kek_id = _new_kek_id({})
    material = KeyMaterial(Keyring({kek_id: new_data_key()}, kek_id), new_data_key())
    return with_purpose_keys(material)


def with_purpose_keys(material: KeyMaterial) -> KeyMaterial:
    """The same material, with a fresh random key added for each purpose it lacks."""
    missing = {name: _encode(new_data_key()) for name in PURPOSE_KEYS if name not in material.extra}
    if not missing:
        return material
    return KeyMaterial(material.keyring, material.blind_index_key, {**material.extra, **missing})


def load_key_material(*, key_file: Path | None, env_json: str | None) -> KeyMaterial:
    """Key material from the ARCHIVE_KEYS value when given, else from the key file."""
    if env_json is not None:
        return _parse(env_json, "ARCHIVE_KEYS")
    if key_file is None:
        raise ConfigurationError("no key material: set ARCHIVE_KEYS or configure a key file")
    try:
        text = key_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigurationError(f"key file {key_file} does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigurationError(f"key file {key_file} cannot be read: {error}") from None
    return _parse(text, f"key file {key_file}")


def write_key_file(path: Path, material: KeyMaterial, *, overwrite: bool = False) -> None:
    """Write the key file atomically with mode 0600.

    Refuses to replace an existing file unless `overwrite`, and even then refuses to drop or
    change any KEK the file holds: data keys wrapped by it would become unreadable.
    """
    if path.exists():
        if not overwrite:
            raise ConfigurationError(f"key file {path} already exists; refusing to overwrite it")
        _check_keeps_keks(load_key_material(key_file=path, env_json=None), material, path)
    try:
        # mkstemp creates the file readable and writable by its owner only.
        handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except FileNotFoundError:
        raise ConfigurationError(f"directory {path.parent} does not exist") from None
    temp = Path(temp_name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(material.to_json())
            out.flush()
            os.fsync(out.fileno())
        if overwrite:
            os.replace(temp, path)
        else:
            try:
                # A hard link fails if the name exists, so a racing writer cannot be clobbered.
                os.link(temp, path)
            except FileExistsError:
                raise ConfigurationError(
                    f"key file {path} already exists; refusing to overwrite it"
                ) from None
    finally:
        temp.unlink(missing_ok=True)
    _sync_directory(path.parent)


def _parse(text: str, source: str) -> KeyMaterial:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigurationError(
            f"{source} is not valid JSON ({error.msg} at line {error.lineno}, column {error.colno})"
        ) from None
    if not isinstance(document, dict):
        raise ConfigurationError(f"{source} must hold a JSON object")
    missing = sorted(_KNOWN_FIELDS - set(document))
    if missing:
        raise ConfigurationError(f"{source} lacks {', '.join(missing)}", field=missing[0])
    if document["format"] != KEY_FILE_FORMAT:
        raise ConfigurationError(f"{source} is not in format {KEY_FILE_FORMAT}", field="format")
    keks = document["keks"]
    active = document["active_kek"]
    if not isinstance(keks, dict) or not keks:
        raise ConfigurationError(f"{source}: keks must be a non-empty object", field="keks")
    if not isinstance(active, str):
        raise ConfigurationError(f"{source}: active_kek must be a string", field="active_kek")
    try:
        keyring = Keyring(
            {str(kek_id): _decode(value, f"KEK {kek_id!r}") for kek_id, value in keks.items()},
            active,
        )
        blind_index_key = _decode(document["blind_index_key"], "blind_index_key")
        extra = {name: value for name, value in document.items() if name not in _KNOWN_FIELDS}
        return KeyMaterial(keyring, blind_index_key, extra)
    except ConfigurationError as error:
        raise ConfigurationError(f"{source}: {error.detail}", field=error.field) from None


def _check_keeps_keks(old: KeyMaterial, new: KeyMaterial, path: Path) -> None:
    for kek_id, kek in old.keyring.keks.items():
        if new.keyring.keks.get(kek_id) != kek:
            raise ConfigurationError(
                f"new key material would drop or change KEK {kek_id!r} of key file {path}"
            )


def _new_kek_id(taken: Mapping[str, bytes]) -> str:
    while True:
        kek_id = "kek-" + secrets.token_hex(4)
        if kek_id not in taken:
            return kek_id


def _wrap_ad(kek_id: str, context: str) -> bytes:
    return WRAP_AD_PREFIX + kek_id.encode() + b":" + context.encode()


def _encode(key: bytes) -> str:
    return base64.b64encode(key).decode("ascii")


def _decode(value: object, name: str) -> bytes:
    if not isinstance(value, str):
        raise ConfigurationError(f"{name} must be a base64 string")
    try:
        key = base64.b64decode(value, validate=True)
    except binascii.Error:
        raise ConfigurationError(f"{name} is not valid base64") from None
    if len(key) != KEY_SIZE:
        raise ConfigurationError(f"{name} is {len(key)} bytes; {KEY_SIZE} expected")
    return key


def _sync_directory(directory: Path) -> None:
    # The rename is durable only once the directory entry itself reaches the disk.
    handle = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
