"""Taking a backup and restoring one: the database dump, the sealed keys and the manifest.

A backup is a directory:

- `database.pgdump` (PostgreSQL, `pg_dump --format=custom --no-owner`) or `database.sqlite`
  (SQLite's online backup): the database, which holds identifiers only encrypted or blinded;
- `keys.sealed`: the key material sealed under a passphrase (`sealed_keys`), or nothing when
  the operator keeps the keys in a secret store of their own (`keys: external`);
- `objects.jsonl`: one line per object in the store (key, size, time, the SHA-256 the database
  records for its content), for comparing the store's own replica against;
- `manifest.sig`: the manifest's Ed25519 signature under the audit log's signing key, which
  a restore checks with the keys it is given before it loads anything. Whoever can write where
  backups are kept, but holds no key, cannot hand a restore a database of their own (an
  administrator account they know the password of, say) by rewriting the dump and the digests;
- `manifest.json`, written last: the archive's version, the migration head, the time, the kind
  of database, and the SHA-256 of every file above. A directory without it is no backup.

The objects themselves are not copied: they are the store's to keep (S3 versioning and
replication, or a copy of the local objects directory), and they are worthless without the
keys and the rows that wrap their data keys.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from archive.audit.heads import public_keys, sign_document, signature_problem, signing_key
from archive.audit.models import AuditHead
from archive.audit.sequencer import head_archive, tree_size
from archive.backup.dump import dump, dump_file_name, kind_of, load, refuse_unless_empty
from archive.backup.sealed_keys import seal, unseal
from archive.contacts.models import ContentObject
from archive.crypto.keyring import KeyMaterial, load_key_material, write_key_file
from archive.db.migrate import upgrade
from archive.db.session import make_engine
from archive.errors import ConfigurationError, Conflict, IntegrityFailure, InvalidInput
from archive.runtime import Runtime
from archive.settings import Settings

FORMAT = "contact-archive-backup/v1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
SIGNATURE_FORMAT = "contact-archive-backup-signature/v1"
OBJECTS = "objects.jsonl"
SEALED_KEYS = "keys.sealed"
INCLUDED = "included"
EXTERNAL = "external"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Manifest:
    """What `manifest.json` says, and its bytes as read: the signature is checked against
    those, never against the file read again (which could have changed meanwhile)."""

    data: dict[str, Any]
    raw: bytes = b""

    @property
    def backup_id(self) -> uuid.UUID:
        return uuid.UUID(self.data["backup_id"])

    @property
    def taken_at(self) -> datetime:
        return datetime.fromisoformat(self.data["taken_at"])

    @property
    def kind(self) -> str:
        return str(self.data["database"]["kind"])

    @property
    def keys_included(self) -> bool:
        return bool(self.data["keys"]["where"] == INCLUDED)

    @property
    def objects(self) -> int:
        return int(self.data["objects"]["count"])


@dataclass(frozen=True)
class AuditGap:
    """The audit log restored against the signed heads kept outside the database."""

    database_size: int  # leaves of the newest head the restored database holds
    outside_size: int  # leaves of the newest head kept outside
    newer_heads: int  # heads kept outside signed after the restored database's newest
    where: str

    @property
    def records(self) -> int:
        """Audit records sealed outside the database that the restored log lacks."""
        return max(0, self.outside_size - self.database_size)

    def summary(self) -> str:
        if not self.records:
            return f"the audit log is level with the signed heads in {self.where}"
        return (
            f"the signed heads in {self.where} run {self.records} audit records ahead of "
            f"the restored log ({self.newer_heads} newer heads; tree size "
            f"{self.database_size} here, {self.outside_size} outside): those records were "
            "written after the backup and are lost from the database"
        )


def take(runtime: Runtime, destination: Path, *, passphrase: str | None) -> Manifest:
    """Back up into `destination` (a new or empty directory). `passphrase`: seal the keys
    under it; None: leave them out, for the operator's secret store."""
    _fresh_directory(destination)
    kind = kind_of(runtime.settings.resolved_database_url)
    taken_at = runtime.clock.now()
    dump_name = dump_file_name(kind)
    # The dump first, then the store: an object deleted in between is in the deletion journal,
    # and one written in between is an orphan to the restored database, as it should be.
    dump(runtime.engine, destination / dump_name)
    with runtime.session() as session:
        audit_size = session.scalar(select(func.max(AuditHead.tree_size))) or 0
        leaves = tree_size(session)
    count, total = _write_objects(runtime, destination / OBJECTS)
    keys: dict[str, Any]
    if passphrase is None:
        keys = {
            "where": EXTERNAL,
            "note": "the key material is in the operator's secret store, not in this backup",
        }
    else:
        sealed = seal(runtime.keys.to_json().encode(), passphrase)
        _write(destination / SEALED_KEYS, sealed)
        keys = {
            "where": INCLUDED,
            "file": SEALED_KEYS,
            "sha256": _digest(destination / SEALED_KEYS),
        }
    manifest = {
        "format": FORMAT,
        "backup_id": str(uuid.uuid4()),
        "archive_version": _archive_version(),
        "migration_head": _revision(runtime.engine),
        "taken_at": taken_at.isoformat(),
        "database": {
            "kind": kind,
            "file": dump_name,
            "sha256": _digest(destination / dump_name),
            "size": (destination / dump_name).stat().st_size,
        },
        "keys": keys,
        "objects": {
            "store": runtime.store.name,
            "count": count,
            "bytes": total,
            "file": OBJECTS,
            "sha256": _digest(destination / OBJECTS),
            "note": "objects are not copied: the store's own replication keeps them",
        },
        "audit": {"signed_tree_size": audit_size, "leaves": leaves},
    }
    written = json.dumps(manifest, indent=2, sort_keys=True).encode()
    key_id, signature = sign_document(signing_key(runtime.keys), written)
    signed = {
        "format": SIGNATURE_FORMAT,
        "key_id": key_id,
        "signature": base64.b64encode(signature).decode(),
    }
    _write(destination / SIGNATURE, json.dumps(signed, indent=2, sort_keys=True).encode())
    _write(destination / MANIFEST, written)
    return Manifest(manifest, written)


def read(source: Path) -> Manifest:
    """The backup's manifest, every file it names checked against its digest.

    `IntegrityFailure` for a changed or damaged backup: nothing of it is restored."""
    try:
        raw = (source / MANIFEST).read_bytes()
        data = json.loads(raw)
    except FileNotFoundError:
        raise InvalidInput(f"{source} holds no {MANIFEST}: it is not a finished backup") from None
    except (OSError, ValueError) as error:
        raise IntegrityFailure(f"{source / MANIFEST} cannot be read: {error}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise IntegrityFailure(f"{source / MANIFEST} is not a {FORMAT} manifest")
    manifest = Manifest(data, raw)
    named = [data["database"], data["objects"]]
    if manifest.keys_included:
        named.append(data["keys"])
    for entry in named:
        path = source / Path(entry["file"]).name
        if not path.is_file():
            raise IntegrityFailure(f"the backup lacks {path.name}")
        if _digest(path) != entry["sha256"]:
            raise IntegrityFailure(
                f"{path.name} does not match the manifest's SHA-256: the backup was changed or "
                "damaged; refusing to restore it"
            )
    return manifest


def restore(
    settings: Settings,
    source: Path,
    manifest: Manifest,
    *,
    passphrase: str | None,
    allow_unsigned: bool = False,
) -> None:
    """Load the backup at `source` (its manifest `read` first) into the fresh, empty database
    `settings` name, put its keys in place, and migrate the schema to this version's head.

    The manifest's signature is checked with the keys first (`allow_unsigned`: a backup with
    no signature at all, as versions before signing wrote, is taken on the operator's word)."""
    url = settings.resolved_database_url
    if kind_of(url) != manifest.kind:
        raise ConfigurationError(
            f"the backup is of a {manifest.kind} database; ARCHIVE_DATABASE_URL names a "
            f"{kind_of(url)} one"
        )
    material, keys = _keys(settings, source, manifest, passphrase)
    _check_signature(source, manifest, keys, allow_unsigned=allow_unsigned)
    if settings.is_embedded:
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    engine = make_engine(url)
    try:
        refuse_unless_empty(engine)
        engine.dispose()  # SQLite: the file is written by another connection now
        load(url, source / manifest.data["database"]["file"])
        upgrade(engine)
    finally:
        engine.dispose()
    if material is not None:
        settings.resolved_key_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_key_file(settings.resolved_key_file, material)


def audit_gap(runtime: Runtime) -> AuditGap:
    """How far the signed heads kept outside the database run ahead of the restored log."""
    with runtime.session() as session:
        here = session.scalar(select(func.max(AuditHead.tree_size))) or 0
    outside = head_archive(runtime)
    newest = outside.newest()
    newer = sum(1 for _ in outside.heads(from_size=here + 1)) if newest is not None else 0
    return AuditGap(here, newest.tree_size if newest else 0, newer, outside.where)


def _check_signature(
    source: Path, manifest: Manifest, keys: KeyMaterial, *, allow_unsigned: bool
) -> None:
    """Refuse a manifest the archive's signing keys did not sign."""
    try:
        signed = json.loads((source / SIGNATURE).read_bytes())
    except FileNotFoundError:
        if allow_unsigned:
            return
        raise IntegrityFailure(
            f"the backup has no {SIGNATURE}: nothing shows the archive wrote it. A backup taken "
            "before backups were signed restores with --allow-unsigned, if you know where it "
            "has been"
        ) from None
    except (OSError, ValueError) as error:
        raise IntegrityFailure(f"{source / SIGNATURE} cannot be read: {error}") from None
    try:
        if signed["format"] != SIGNATURE_FORMAT:
            raise ValueError(signed["format"])
        key_id, signature = str(signed["key_id"]), base64.b64decode(signed["signature"])
    except (KeyError, TypeError, ValueError):
        raise IntegrityFailure(f"{source / SIGNATURE} is not a {SIGNATURE_FORMAT}") from None
    problem = signature_problem(key_id, signature, manifest.raw, public_keys(keys))
    if problem is not None:
        raise IntegrityFailure(
            f"the backup's manifest is not one this archive's keys signed ({problem}); "
            "refusing to restore it"
        )


def _keys(
    settings: Settings, source: Path, manifest: Manifest, passphrase: str | None
) -> tuple[KeyMaterial | None, KeyMaterial]:
    """The key material to write (None to write none), after checking the archive can have
    it, and the key material the restored archive will have."""
    if not manifest.keys_included:
        # The operator's secret store holds them: they must be in place before the restore.
        found = load_key_material(
            key_file=None if settings.keys_json else settings.resolved_key_file,
            env_json=settings.keys_json,
        )
        return None, found
    if passphrase is None:
        raise InvalidInput("the backup's keys are sealed: give its passphrase", field="passphrase")
    opened = unseal((source / SEALED_KEYS).read_bytes(), passphrase)
    material = load_key_material(key_file=None, env_json=opened.decode())
    if settings.keys_json is not None:
        if load_key_material(key_file=None, env_json=settings.keys_json).to_json() != (
            material.to_json()
        ):
            raise Conflict("ARCHIVE_KEYS holds other keys than the backup's")
        return None, material
    if settings.resolved_key_file.exists():
        raise Conflict(
            f"key file {settings.resolved_key_file} exists already; a backup is restored into a "
            "fresh archive"
        )
    return material, material


def _write_objects(runtime: Runtime, target: Path) -> tuple[int, int]:
    count = total = 0
    with target.open("wb") as out:
        for line in _object_lines(runtime):
            out.write(json.dumps(line, sort_keys=True, separators=(",", ":")).encode() + b"\n")
            count += 1
            total += int(line["size"])
        out.flush()
        os.fsync(out.fileno())
    return count, total


def _object_lines(runtime: Runtime) -> Iterator[dict[str, Any]]:
    with runtime.session() as session:
        digests = {
            key: digest.hex()
            for key, digest in session.execute(
                select(ContentObject.storage_key, ContentObject.sha256)
            )
        }
    for info in runtime.store.list():
        yield {
            "key": info.key,
            "size": info.size,
            "modified": info.modified.isoformat(),
            "content_sha256": digests.get(info.key),
        }


def _fresh_directory(destination: Path) -> None:
    if destination.exists() and (not destination.is_dir() or any(destination.iterdir())):
        raise Conflict(f"{destination} exists and is not an empty directory")
    destination.mkdir(mode=0o700, parents=True, exist_ok=True)


def _write(path: Path, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _archive_version() -> str:
    try:
        return version("contact-archive")
    except PackageNotFoundError:
        return "unknown"
