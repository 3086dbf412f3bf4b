"""Where signed tree heads are kept outside the database, so that whoever can write the database
cannot make the log forget what it once held.

- `FileHeads`: an append-only file of JSON lines (the embedded default's, and a witness copy to
  mail out). Each head is appended with O_APPEND and fsynced before the sequencer goes on.
- `BucketHeads`: one object per head under its own prefix of an S3 bucket, each under S3
  Object Lock retention in compliance mode where the bucket has Object Lock, so not even the
  bucket's owner can delete or overwrite it before the retention ends. The names hold a dot
  and a hyphen, which the archive's object keys never do: the heads stay out of the store's
  listing, so the integrity check never takes them for orphans.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Protocol

from minio import Minio
from minio.commonconfig import COMPLIANCE
from minio.error import S3Error
from minio.retention import Retention

from archive.audit.chain import canonical
from archive.audit.heads import TreeHead
from archive.errors import IntegrityFailure, StorageError

BUCKET_PREFIX = "audit-heads/"
SIZE_DIGITS = 20


class HeadArchive(Protocol):
    """A place outside the database that keeps every signed head it is given."""

    where: str  # for messages

    def publish(self, head: TreeHead) -> None:
        """Keep `head` durably; it is kept when this returns."""
        ...

    def heads(self, *, from_size: int = 0) -> Iterator[TreeHead]:
        """The heads kept, those of at least `from_size` leaves, oldest first.

        IntegrityFailure for anything kept that is not a well-formed head.
        """
        ...

    def newest(self, *, from_size: int = 0) -> TreeHead | None:
        """The head of the most records kept (None when none of `from_size` or more is)."""
        ...


class FileHeads:
    """Signed heads as JSON lines appended to one file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.where = f"file {path}"

    def publish(self, head: TreeHead) -> None:
        line = canonical(head.to_json()) + b"\n"
        with self._failing("keep a tree head in"):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(descriptor, line)
                os.fsync(descriptor)
            finally:
                os.close(descriptor)

    def heads(self, *, from_size: int = 0) -> Iterator[TreeHead]:
        with self._failing("read the tree heads in"):
            try:
                file = self.path.open("rb")
            except FileNotFoundError:
                return
            with file:
                for number, line in enumerate(file, start=1):
                    if not line.strip():
                        continue
                    head = _parse(line, f"{self.where}, line {number}")
                    if head.tree_size >= from_size:
                        yield head

    def newest(self, *, from_size: int = 0) -> TreeHead | None:
        # Heads are appended in order of size: the last line is the newest, read from the end
        # so that a file of years of heads costs no more than a short one.
        with self._failing("read the newest tree head in"):
            line = _last_line(self.path)
        if line is None:
            return None
        head = _parse(line, f"{self.where}, last line")
        return head if head.tree_size >= from_size else None

    @contextmanager
    def _failing(self, action: str) -> Iterator[None]:
        """An OSError (a directory where the file should be, no permission, a full disk) as
        the StorageError every caller handles, naming the file."""
        try:
            yield
        except OSError as error:
            raise StorageError(
                f"could not {action} {self.where}: {error.strerror or error}"
            ) from None


class BucketHeads:
    """Signed heads as objects `audit-heads/<tree size, 20 digits>.json` in an S3 bucket."""

    def __init__(
        self, client: Minio, bucket: str, *, retain: timedelta, prefix: str = BUCKET_PREFIX
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self.retain = retain
        self.where = f"S3 bucket {bucket}, prefix {prefix}"
        self._locked: bool | None = None

    def publish(self, head: TreeHead) -> None:
        data = canonical(head.to_json())
        retention = None
        if self.locked():
            retention = Retention(COMPLIANCE, head.at + self.retain)
        # S3 takes an object under retention only with a checksum of its bytes.
        checksum = base64.b64encode(hashlib.sha256(data).digest()).decode()
        try:
            self.client.put_object(
                self.bucket,
                self._name(head.tree_size),
                io.BytesIO(data),
                len(data),
                content_type="application/json",
                metadata={
                    "x-amz-sdk-checksum-algorithm": "SHA256",
                    "x-amz-checksum-sha256": checksum,
                },
                retention=retention,
            )
        except S3Error as error:
            raise StorageError(
                f"could not keep a tree head in {self.where}: {error.code}"
            ) from None

    def heads(self, *, from_size: int = 0) -> Iterator[TreeHead]:
        # Names sort by size, so the listing can start at the first head asked for.
        for name in self._names(from_size):
            yield self._read(name)

    def newest(self, *, from_size: int = 0) -> TreeHead | None:
        # Only names are listed (a thousand a request); only the last one is read.
        names = list(self._names(from_size))
        return self._read(names[-1]) if names else None

    def _names(self, from_size: int) -> Iterator[str]:
        start = self._name(from_size - 1) if from_size > 0 else None
        try:
            for found in self.client.list_objects(
                self.bucket, prefix=self.prefix, start_after=start, recursive=True
            ):
                if found.object_name is not None:
                    yield found.object_name
        except S3Error as error:
            raise StorageError(
                f"could not list the tree heads in {self.where}: {error.code}"
            ) from None

    def _read(self, name: str) -> TreeHead:
        try:
            response = self.client.get_object(self.bucket, name)
            try:
                data = response.read()
            finally:
                response.close()
                response.release_conn()
        except S3Error as error:
            raise StorageError(f"could not read {name} in {self.where}: {error.code}") from None
        head = _parse(data, f"{self.where}, object {name}")
        if name != self._name(head.tree_size):
            raise IntegrityFailure(f"{name} in {self.where} holds the head of another size")
        return head

    def locked(self) -> bool:
        """Whether the bucket has Object Lock (asked once: it cannot be turned off)."""
        if self._locked is None:
            try:
                self.client.get_object_lock_config(self.bucket)
                self._locked = True
            except S3Error as error:
                if error.code != "ObjectLockConfigurationNotFoundError":
                    raise StorageError(f"could not reach {self.where}: {error.code}") from None
                self._locked = False
        return self._locked

    def _name(self, size: int) -> str:
        return f"{self.prefix}{size:0{SIZE_DIGITS}d}.json"


def _last_line(path: Path, block: int = 4096) -> bytes | None:
    try:
        file = path.open("rb")
    except FileNotFoundError:
        return None
    with file:
        end = file.seek(0, os.SEEK_END)
        tail = b""
        while end > 0:
            start = max(0, end - block)
            file.seek(start)
            tail = file.read(end - start) + tail
            end = start
            lines = tail.rstrip(b"\n").rsplit(b"\n", 1)
            if len(lines) == 2 or end == 0:
                last = lines[-1].strip()
                return last or None
        return None


def _parse(data: bytes, where: str) -> TreeHead:
    try:
        return TreeHead.from_json(json.loads(data))
    except ValueError as error:
        raise IntegrityFailure(f"{where} is not a signed tree head: {error}") from None
