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
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from minio import Minio
from minio.commonconfig import COMPLIANCE
from minio.error import S3Error
from minio.retention import Retention

from archive.audit.chain import canonical
from archive.audit.heads import LINEAGE_FORMAT, LineageStart, TreeHead
from archive.errors import IntegrityFailure, StorageError
from archive.storage.s3 import read_small

BUCKET_PREFIX = "audit-heads/"
SIZE_DIGITS = 20
LINEAGE_MARK = "lineage.json"
_HEAD_NAME = re.compile(rf"[0-9]{{{SIZE_DIGITS}}}\.json")


class HeadArchive(Protocol):
    """A place outside the database that keeps every signed head it is given.

    Its heads form lineages. Lineage 0 is the log's from its first record; a restart after an
    older backup was restored (`archive audit restart`) starts the next, and the heads of the
    ones before stay where they are, as evidence of how far the log had gone.
    """

    where: str  # for messages
    lineage: int

    def lineages(self) -> list[HeadArchive]:
        """Every lineage up to this one's, oldest first."""
        ...

    def start_next(self, start: LineageStart) -> HeadArchive:
        """Start the lineage after this one with its signed `start`; it is then the current
        one."""
        ...

    def start(self) -> LineageStart | None:
        """This lineage's signed start (None for lineage 0, which has none).

        IntegrityFailure when what is kept is not a well-formed start.
        """
        ...

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
    """Signed heads as JSON lines appended to one file; lineage n > 0 in the file beside it
    named `<stem>.<n><suffix>` (`audit-heads.1.jsonl`)."""

    def __init__(self, path: Path, lineage: int = 0) -> None:
        self.base = path
        self.lineage = lineage
        self.path = path if lineage == 0 else path.with_name(f"{path.stem}.{lineage}{path.suffix}")
        self.where = f"file {self.path}"

    @classmethod
    def current(cls, path: Path) -> FileHeads:
        """The newest lineage begun beside `path`."""
        lineage = 0
        while FileHeads(path, lineage + 1).path.exists():
            lineage += 1
        return cls(path, lineage)

    def lineages(self) -> list[HeadArchive]:
        return [FileHeads(self.base, n) for n in range(self.lineage + 1)]

    def start_next(self, start: LineageStart) -> FileHeads:
        following = FileHeads(self.base, self.lineage + 1)
        line = canonical(start.to_json()) + b"\n"
        with following._failing("start a new lineage of tree heads in"):
            # Its start is its first line; the file's being there makes it the current lineage.
            descriptor = os.open(following.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                os.write(descriptor, line)
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
        return following

    def start(self) -> LineageStart | None:
        if self.lineage == 0:
            return None
        with self._failing("read the start of the lineage in"), self.path.open("rb") as file:
            first = file.readline()
        return _parse_start(first, f"{self.where}, line 1")

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
                    if not line.strip() or (number == 1 and self.lineage > 0):
                        continue  # a lineage's first line is its start, not a head
                    head = _parse(line, f"{self.where}, line {number}")
                    if head.tree_size >= from_size:
                        yield head

    def newest(self, *, from_size: int = 0) -> TreeHead | None:
        # Heads are appended in order of size: the last line is the newest, read from the end
        # so that a file of years of heads costs no more than a short one.
        with self._failing("read the newest tree head in"):
            line = _last_line(self.path)
        if line is None or b'"' + LINEAGE_FORMAT.encode() + b'"' in line:
            return None  # nothing yet, or only the lineage's start
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
    """Signed heads as objects `audit-heads/<tree size, 20 digits>.json` in an S3 bucket;
    lineage n > 0 under `audit-heads.<n>/`, begun by an object `lineage.json` there."""

    def __init__(
        self,
        client: Minio,
        bucket: str,
        *,
        retain: timedelta,
        prefix: str = BUCKET_PREFIX,
        lineage: int = 0,
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.base = prefix
        self.lineage = lineage
        self.prefix = prefix if lineage == 0 else f"{prefix.rstrip('/')}.{lineage}/"
        self.retain = retain
        self.where = f"S3 bucket {bucket}, prefix {self.prefix}"
        self._locked: bool | None = None

    @classmethod
    def current(
        cls, client: Minio, bucket: str, *, retain: timedelta, prefix: str = BUCKET_PREFIX
    ) -> BucketHeads:
        """The newest lineage begun in `bucket`."""
        lineage = 0
        stem = prefix.rstrip("/") + "."
        try:
            for found in client.list_objects(bucket, prefix=stem, recursive=False):
                number = (found.object_name or "").removeprefix(stem).rstrip("/")
                if number.isdigit():
                    lineage = max(lineage, int(number))
        except S3Error as error:
            raise StorageError(
                f"could not list the lineages of tree heads in S3 bucket {bucket}: {error.code}"
            ) from None
        return cls(client, bucket, retain=retain, prefix=prefix, lineage=lineage)

    def lineages(self) -> list[HeadArchive]:
        return [
            BucketHeads(self.client, self.bucket, retain=self.retain, prefix=self.base, lineage=n)
            for n in range(self.lineage + 1)
        ]

    def start_next(self, start: LineageStart) -> BucketHeads:
        following = BucketHeads(
            self.client, self.bucket, retain=self.retain, prefix=self.base, lineage=self.lineage + 1
        )
        following._put(
            f"{following.prefix}{LINEAGE_MARK}", canonical(start.to_json()), retain_until=None
        )
        return following

    def start(self) -> LineageStart | None:
        if self.lineage == 0:
            return None
        name = f"{self.prefix}{LINEAGE_MARK}"
        return _parse_start(read_small(self.client, self.bucket, name, self.where), name)

    def publish(self, head: TreeHead) -> None:
        self._put(self._name(head.tree_size), canonical(head.to_json()), retain_until=head.at)

    def _put(self, name: str, data: bytes, *, retain_until: datetime | None) -> None:
        """Write `name`, under retention from `retain_until` (or now) where the bucket locks."""
        retention = None
        if self.locked():
            start = retain_until or datetime.now(UTC)
            retention = Retention(COMPLIANCE, start + self.retain)
        # S3 takes an object under retention only with a checksum of its bytes.
        checksum = base64.b64encode(hashlib.sha256(data).digest()).decode()
        try:
            self.client.put_object(
                self.bucket,
                name,
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
            raise StorageError(f"could not write {name} in {self.where}: {error.code}") from None

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
                # A lineage's mark is no head.
                if found.object_name is not None and _HEAD_NAME.fullmatch(
                    found.object_name.removeprefix(self.prefix)
                ):
                    yield found.object_name
        except S3Error as error:
            raise StorageError(
                f"could not list the tree heads in {self.where}: {error.code}"
            ) from None

    def _read(self, name: str) -> TreeHead:
        data = read_small(self.client, self.bucket, name, self.where)
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


def _parse_start(data: bytes, where: str) -> LineageStart:
    try:
        return LineageStart.from_json(json.loads(data))
    except ValueError as error:
        raise IntegrityFailure(f"{where} is not a lineage's signed start: {error}") from None


def _parse(data: bytes, where: str) -> TreeHead:
    try:
        return TreeHead.from_json(json.loads(data))
    except ValueError as error:
        raise IntegrityFailure(f"{where} is not a signed tree head: {error}") from None
