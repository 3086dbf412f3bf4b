"""The deletion journal: which contacts were deleted, kept in the store beside their objects,
outside the database.

A backup's database dump knows nothing of the deletions made after it was taken, while the
store has lost those contacts' objects for good. Each deletion that commits also appends an
entry here, so that a restore of an older dump can delete again what it would bring back. An
entry holds ids and times only: never an identifier, never content.

Entries are written once and never changed: `deletions/<time>_<run>_<entry id>.json`, the
time first so that names sort in the order written, then the sweep's deletion run (`other` for
an erasure), so that a reader can pass over the runs its database knows without reading them.
The names hold a dot and an underscore, which the archive's object keys never do: they stay
out of the store's listing, so the integrity check never takes them for orphans (the signed
tree heads in `audit-heads/` do the same).
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import os
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from minio import Minio
from minio.error import S3Error

from archive.errors import IntegrityFailure, StorageError
from archive.storage.base import ObjectStore
from archive.storage.local import LocalStore
from archive.storage.s3 import S3Store, read_small

PREFIX = "deletions/"
FORMAT = "deletion-journal/v1"
_STAMP = "%Y%m%dT%H%M%S%fZ"


@dataclass(frozen=True)
class Entry:
    """Contacts one deletion step removes: `run` is the sweep's deletion run or the erasure's
    claimant, `kind` why ("retention", "erasure")."""

    run: str
    kind: str
    at: datetime
    contacts: tuple[uuid.UUID, ...]
    # The audit log's signing key over `document()`: whoever can write the store but holds no
    # key cannot make an entry that deletes a contact (the lifecycle signs and checks it).
    key_id: str = ""
    signature: bytes = b""

    def document(self) -> bytes:
        """The entry as signed: everything but the signature."""
        return json.dumps(
            {
                "format": FORMAT,
                "run": self.run,
                "kind": self.kind,
                "at": self.at.astimezone(UTC).isoformat(),
                "contacts": sorted(str(one) for one in self.contacts),
            },
            sort_keys=True,
            separators=(",", ":"),
        ).encode()

    def to_json(self) -> bytes:
        signed = json.loads(self.document())
        signed["key_id"] = self.key_id
        signed["signature"] = base64.b64encode(self.signature).decode()
        return json.dumps(signed, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: bytes, where: str) -> Entry:
        try:
            value = json.loads(data)
            if not isinstance(value, dict) or value.get("format") != FORMAT:
                raise ValueError(f"not a {FORMAT} document")
            at = datetime.fromisoformat(value["at"])
            if at.tzinfo is None:
                raise ValueError("its time has no zone")
            return cls(
                run=str(value["run"]),
                kind=str(value["kind"]),
                at=at,
                contacts=tuple(uuid.UUID(one) for one in value["contacts"]),
                key_id=str(value["key_id"]),
                signature=base64.b64decode(str(value["signature"]), validate=True),
            )
        except (ValueError, KeyError, TypeError, binascii.Error) as error:
            raise IntegrityFailure(f"{where} is not a deletion journal entry: {error}") from None


class DeletionJournal(Protocol):
    where: str  # for messages

    def append(self, entry: Entry) -> None:
        """Keep `entry` durably; it is kept when this returns."""
        ...

    def names(self, *, since: datetime | None = None) -> Sequence[str]:
        """The entries' names, oldest first; with `since`, those written at or after it."""
        ...

    def read(self, name: str) -> Entry:
        """The entry of one name."""
        ...

    def entries(self, *, since: datetime | None = None) -> Iterator[Entry]:
        """The entries kept, oldest first; with `since`, those written at or after it."""
        ...


OTHER = "other"


def name_of(entry: Entry) -> str:
    try:
        run = str(uuid.UUID(entry.run))
    except ValueError:
        run = OTHER
    return f"{PREFIX}{entry.at.astimezone(UTC).strftime(_STAMP)}_{run}_{uuid.uuid4()}.json"


def run_of(name: str) -> str | None:
    """The deletion run an entry's name gives, None for an erasure's (or a name not ours)."""
    parts = name.removeprefix(PREFIX).split("_")
    return parts[1] if len(parts) == 3 and parts[1] != OTHER else None


def _start(since: datetime | None) -> str | None:
    # Names begin with their time: everything at or after `since` sorts after this.
    return None if since is None else f"{PREFIX}{since.astimezone(UTC).strftime(_STAMP)}"


class FileJournal:
    """Entries as files in a directory (`deletions/` under the local store's root)."""

    def __init__(self, root: Path) -> None:
        self.directory = root / PREFIX.rstrip("/")
        self.where = f"directory {self.directory}"

    def append(self, entry: Entry) -> None:
        target = self.directory / name_of(entry).removeprefix(PREFIX)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                os.write(descriptor, entry.to_json())
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
        except OSError as error:
            raise StorageError(
                f"could not keep a deletion entry in {self.where}: {error.strerror or error}"
            ) from None

    def names(self, *, since: datetime | None = None) -> Sequence[str]:
        start = _start(since)
        try:
            found = sorted(os.listdir(self.directory))
        except FileNotFoundError:
            return []
        except OSError as error:
            raise StorageError(f"could not list {self.where}: {error.strerror or error}") from None
        return [
            PREFIX + name
            for name in found
            if name.endswith(".json") and (start is None or PREFIX + name >= start)
        ]

    def read(self, name: str) -> Entry:
        path = self.directory / Path(name).name
        try:
            data = path.read_bytes()
        except OSError as error:
            raise StorageError(f"could not read {path}: {error.strerror or error}") from None
        return Entry.from_json(data, f"{self.where}, file {path.name}")

    def entries(self, *, since: datetime | None = None) -> Iterator[Entry]:
        for name in self.names(since=since):
            yield self.read(name)


class BucketJournal:
    """Entries as objects `deletions/<time>-<id>.json` in the store's S3 bucket."""

    def __init__(self, client: Minio, bucket: str) -> None:
        self.client = client
        self.bucket = bucket
        self.where = f"S3 bucket {bucket}, prefix {PREFIX}"

    def append(self, entry: Entry) -> None:
        data = entry.to_json()
        try:
            self.client.put_object(
                self.bucket,
                name_of(entry),
                io.BytesIO(data),
                len(data),
                content_type="application/json",
            )
        except S3Error as error:
            raise StorageError(
                f"could not keep a deletion entry in {self.where}: {error.code}"
            ) from None

    def read(self, name: str) -> Entry:
        data = read_small(self.client, self.bucket, name, self.where)
        return Entry.from_json(data, f"{self.where}, object {name}")

    def entries(self, *, since: datetime | None = None) -> Iterator[Entry]:
        for name in self.names(since=since):
            yield self.read(name)

    def names(self, *, since: datetime | None = None) -> Sequence[str]:
        try:
            return [
                found.object_name
                for found in self.client.list_objects(
                    self.bucket, prefix=PREFIX, start_after=_start(since), recursive=True
                )
                if found.object_name is not None and found.object_name.endswith(".json")
            ]
        except S3Error as error:
            raise StorageError(f"could not list {self.where}: {error.code}") from None


def journal_of(store: ObjectStore) -> DeletionJournal:
    """The deletion journal kept in `store`."""
    if isinstance(store, S3Store):
        return BucketJournal(store.client, store.bucket)
    if isinstance(store, LocalStore):
        return FileJournal(store.root)
    raise StorageError(f"the {store.name} store keeps no deletion journal")
