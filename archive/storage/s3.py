"""Object store in an S3 bucket (MinIO or any S3-compatible service), through the minio SDK."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import BinaryIO, TypeVar, cast

import urllib3
from minio import Minio
from minio.commonconfig import ENABLED
from minio.datatypes import Upload
from minio.deleteobjects import DeleteObject
from minio.error import MinioException, S3Error
from minio.helpers import MAX_PART_SIZE, MIN_PART_SIZE, check_bucket_name
from minio.versioningconfig import SUSPENDED

from archive.errors import ConfigurationError, NotFound, StorageError
from archive.observability import metrics
from archive.storage.base import (
    ObjectInfo,
    UnfinishedUpload,
    check_chunk_size,
    check_key,
    check_prefix,
    check_range,
    is_key,
)

#: An upload holds about three parts in memory however long the stream: minio keeps the part
#: just sent while reading the next, and copies that once. 10,000 parts of 8 MiB make 80 GiB.
DEFAULT_PART_SIZE = 8 * 1024 * 1024
#: S3 accepts at most this many keys in one DeleteObjects request.
MAX_DELETE_BATCH = 1000
#: S3 lists at most this many multipart uploads, or parts of one, per request.
MAX_LIST_PAGE = 1000
#: Requests one call sends at once where S3 takes one object per request (legal holds, the
#: version listings of a versioned bucket): within the connection pool's 10, leaving room for
#: other threads of the process.
REQUESTS_AT_ONCE = 8

_T = TypeVar("_T")
_SDK_ERRORS = (MinioException, urllib3.exceptions.HTTPError, OSError)
_BUCKET_TAKEN = ("BucketAlreadyOwnedByYou", "BucketAlreadyExists")
# Retry objects are immutable (each retry makes a new one), so one serves every store.
_RETRIES = urllib3.Retry(total=3, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504])


def read_small(client: Minio, bucket: str, name: str, where: str) -> bytes:
    """The whole of a small object kept beside the archive's (a signed head, a journal entry),
    StorageError naming `where` when it cannot be read."""
    try:
        response = client.get_object(bucket, name)
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()
    except S3Error as error:
        raise StorageError(f"could not read {name} in {where}: {error.code}") from None


class ChunkReader:
    """A file-like view of a chunk iterator for minio, which reads one part at a time."""

    def __init__(self, chunks: Iterable[bytes | bytearray]) -> None:
        self._chunks = iter(chunks)
        self._pending = memoryview(b"")  # the unread tail of the last chunk
        self.total = 0
        self.failure: Exception | None = None  # raised by the caller's iterator, if any

    def read(self, size: int = -1) -> bytes:
        """Return `size` bytes, fewer only at the end; holds no more than that plus a chunk."""
        if size < 0:
            raise ValueError("only bounded reads keep memory bounded")
        pieces: list[memoryview] = []
        wanted = size
        while wanted > 0:
            piece = self._pending or self._next_chunk()
            if not piece:
                break
            self._pending = piece[wanted:]
            pieces.append(piece[:wanted])
            wanted -= len(pieces[-1])
        data = b"".join(pieces)
        self.total += len(data)
        return data

    def _next_chunk(self) -> memoryview:
        try:
            for chunk in self._chunks:
                if chunk:
                    return memoryview(chunk)
        except Exception as exc:
            self.failure = exc
            raise
        return memoryview(b"")


class S3Store:
    """Objects in one bucket; the bucket is created on first use if it is missing."""

    name = "s3"
    reads_cost_a_request = True

    def __init__(
        self,
        endpoint: str,
        access_key: str,
        secret_key: str,
        bucket: str,
        *,
        secure: bool,
        region: str | None,
        part_size: int = DEFAULT_PART_SIZE,
        delete_batch: int = MAX_DELETE_BATCH,
        list_page: int = MAX_LIST_PAGE,
        object_lock: bool = False,
        timeout: float = 60.0,
    ) -> None:
        """Connect lazily to `endpoint` ("host" or "host:port", no scheme).

        `object_lock` asks for S3 Object Lock when this store creates the bucket; it
        cannot be turned on for a bucket that already exists.
        """
        if not MIN_PART_SIZE <= part_size <= MAX_PART_SIZE:
            raise ConfigurationError(
                f"S3 part size must be between {MIN_PART_SIZE} and {MAX_PART_SIZE} bytes",
                field="part_size",
            )
        if not 1 <= delete_batch <= MAX_DELETE_BATCH:
            raise ConfigurationError(
                f"S3 delete batch must be between 1 and {MAX_DELETE_BATCH} keys",
                field="delete_batch",
            )
        if not 1 <= list_page <= MAX_LIST_PAGE:
            raise ConfigurationError(
                f"S3 listing page must be between 1 and {MAX_LIST_PAGE} entries",
                field="list_page",
            )
        try:
            check_bucket_name(bucket, strict=True)
        except ValueError as exc:
            raise ConfigurationError(f"S3 bucket name {bucket!r}: {exc}", field="bucket") from None
        self.endpoint = endpoint
        self.bucket = bucket
        self.part_size = part_size
        self.delete_batch = delete_batch
        self.list_page = list_page
        self._object_lock = object_lock
        http = urllib3.PoolManager(
            # minio's own default waits five minutes and retries five times; a store that
            # is down should be reported within seconds.
            timeout=urllib3.Timeout(connect=min(timeout, 10.0), read=timeout),
            retries=_RETRIES,
            maxsize=10,
        )
        try:
            self._client = Minio(
                endpoint,
                access_key=access_key,
                secret_key=secret_key,
                secure=secure,
                region=region,
                http_client=http,
            )
        except ValueError as exc:
            raise ConfigurationError(f"S3 endpoint {endpoint!r}: {exc}", field="endpoint") from None
        self._bucket_ready = False
        self._bucket_lock = threading.Lock()
        self._lock_known: bool | None = None

    def __repr__(self) -> str:
        return f"S3Store({self.endpoint!r}, bucket={self.bucket!r})"

    def put(self, key: str, chunks: Iterable[bytes | bytearray]) -> int:
        check_key(key)
        source = ChunkReader(chunks)
        with self._errors("store", key, source=source):
            self._ensure_bucket()
            # Sequential parts keep memory bounded by the part size; parallel uploads hold more.
            self._client.put_object(
                self.bucket,
                key,
                cast(BinaryIO, source),  # minio only ever calls read(size)
                length=-1,
                part_size=self.part_size,
                num_parallel_uploads=1,
            )
        return source.total

    def read(self, key: str, offset: int, length: int) -> bytes:
        check_key(key)
        check_range(offset, length)
        if length == 0:
            # A zero-length range would mean "to the end" to minio; only existence matters.
            self.stat(key)
            return b""
        with self._errors("read", key):
            self._ensure_bucket()
            try:
                response = self._client.get_object(self.bucket, key, offset=offset, length=length)
            except S3Error as exc:
                if exc.code == "InvalidRange":
                    return b""  # the offset is at or past the end of the object
                raise
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()

    def read_into(self, key: str, offset: int, buffer: memoryview) -> int:
        # The SDK hands over bytes of its own; each read is a request anyway.
        data = self.read(key, offset, len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def iter_chunks(self, key: str, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        check_key(key)
        check_chunk_size(chunk_size)
        # Requested here rather than in the generator so that NotFound comes from this call.
        with self._errors("read", key):
            self._ensure_bucket()
            response = self._client.get_object(self.bucket, key)
        return self._stream(response, key, chunk_size)

    def stat(self, key: str) -> ObjectInfo:
        check_key(key)
        with self._errors("stat", key):
            self._ensure_bucket()
            found = self._client.stat_object(self.bucket, key)
        return self._info(key, found.size, found.last_modified)

    def exists(self, key: str) -> bool:
        try:
            self.stat(key)
        except NotFound:
            return False
        return True

    def delete_many(self, keys: Iterable[str]) -> None:
        checked = [check_key(key) for key in keys]  # every key is checked before any delete
        if not checked:
            return
        with self._errors("delete objects from", None):
            self._ensure_bucket()
            targets = (
                self._versions(checked)
                if self._keeps_versions()
                else [DeleteObject(k) for k in checked]
            )
            # One DeleteObjects request per batch of up to 1,000 keys, the most S3 takes.
            for start in range(0, len(targets), self.delete_batch):
                batch = targets[start : start + self.delete_batch]
                # remove_objects is lazy: nothing is deleted until its errors are read.
                errors = [
                    error
                    for error in self._client.remove_objects(self.bucket, batch)
                    if error.code != "NoSuchKey"
                ]
                if errors:
                    first = errors[0]
                    reason = f"{first.code}: {first.message} ({len(errors)} objects not deleted)"
                    raise self._failure("delete", first.name, reason)

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        check_prefix(prefix)
        return self._list(prefix)

    def unfinished_uploads(self) -> Iterator[UnfinishedUpload]:
        with self._errors("list unfinished uploads in", None):
            self._ensure_bucket()
            for upload in self._multipart_uploads():
                name, upload_id = upload.object_name, upload.upload_id
                # Uploads under names that are not keys were not started by the archive.
                if upload_id is None or not is_key(name):
                    continue
                last_active = self._last_active(name, upload_id, upload.initiated_time)
                if last_active is not None:
                    yield UnfinishedUpload(upload_id, name, last_active)

    def abort_uploads(self, uploads: Iterable[UnfinishedUpload]) -> None:
        # Every key is checked before any upload is aborted.
        targets = [(check_key(upload.key or ""), upload.upload_id) for upload in uploads]
        with self._errors("abort unfinished uploads in", None):
            self._ensure_bucket()
            for key, upload_id in targets:
                try:
                    # minio has no public call for this; the private one is the plain S3 request.
                    self._client._abort_multipart_upload(self.bucket, key, upload_id)
                except S3Error as exc:
                    if exc.code != "NoSuchUpload":
                        raise

    def check(self) -> None:
        with self._errors("reach", None):
            self._ensure_bucket(recheck=True)

    @property
    def client(self) -> Minio:
        """The bucket's client, the bucket made sure of: for what the archive keeps beside its
        objects under names its keys cannot take (the audit log's signed heads)."""
        with self._errors("reach", None):
            self._ensure_bucket()
        return self._client

    def set_legal_hold(self, keys: Iterable[str], on: bool) -> None:
        checked = [check_key(key) for key in keys]
        if not checked or not self._locked():
            return
        switch = (
            self._client.enable_object_legal_hold if on else self._client.disable_object_legal_hold
        )

        def set_one(key: str) -> None:
            try:
                switch(self.bucket, key)
            except S3Error as exc:
                if exc.code not in ("NoSuchKey", "NoSuchVersion"):
                    raise

        with self._errors("set legal holds in", None):
            # S3 sets a legal hold one object per request: a few at once, not one by one.
            self._each(set_one, checked)

    def _locked(self) -> bool:
        """Whether the bucket has object lock, asked once: it cannot change afterwards."""
        if self._lock_known is None:
            self._lock_known = self.supports_object_lock()
        return self._lock_known

    def _keeps_versions(self) -> bool:
        """Whether deleting a key leaves its data behind a delete marker: object lock, or
        versioning turned on (even if suspended since, older versions stay). Asked on every
        call: an operator may turn versioning on at any time, and missing it would leave
        ciphertext behind."""
        if self._locked():
            return True
        status = self._client.get_bucket_versioning(self.bucket).status
        return status in (ENABLED, SUSPENDED)

    def _versions(self, keys: Sequence[str]) -> Sequence[DeleteObject]:
        """Every version of each key, so that no ciphertext stays behind a delete marker."""

        def of(key: str) -> Sequence[DeleteObject]:
            listing = self._client.list_objects(self.bucket, prefix=key, include_version=True)
            return [
                DeleteObject(key, item.version_id) for item in listing if item.object_name == key
            ]

        # One listing per key (their names share no useful prefix): a few at once.
        return [target for found in self._each(of, keys) for target in found]

    def _each(self, call: Callable[[str], _T], keys: Sequence[str]) -> Sequence[_T]:
        """`call` for every key, a few requests at a time. The first failure, in key order,
        is raised once the requests under way have ended; those not yet sent are dropped."""
        if len(keys) <= 1:
            return [call(key) for key in keys]
        threads = min(REQUESTS_AT_ONCE, len(keys))
        with ThreadPoolExecutor(threads, thread_name_prefix="s3-store") as pool:
            return list(pool.map(call, keys))

    def supports_object_lock(self) -> bool:
        with self._errors("read the object lock configuration of", None):
            self._ensure_bucket()
            try:
                self._client.get_object_lock_config(self.bucket)
            except S3Error as exc:
                if exc.code == "ObjectLockConfigurationNotFoundError":
                    return False
                raise
        return True

    def _ensure_bucket(self, *, recheck: bool = False) -> None:
        with self._bucket_lock:
            if self._bucket_ready and not recheck:
                return
            if not self._client.bucket_exists(self.bucket):
                try:
                    self._client.make_bucket(self.bucket, object_lock=self._object_lock)
                except S3Error as exc:
                    # Another replica may have created it between our check and our request.
                    if exc.code not in _BUCKET_TAKEN or not self._client.bucket_exists(self.bucket):
                        raise
            self._bucket_ready = True

    def _multipart_uploads(self) -> Iterator[Upload]:
        """Every multipart upload in the bucket, a page at a time."""
        key_marker: str | None = None
        upload_id_marker: str | None = None
        while True:
            page = self._client._list_multipart_uploads(
                self.bucket,
                key_marker=key_marker,
                upload_id_marker=upload_id_marker,
                max_uploads=self.list_page,
            )
            yield from page.uploads
            if not page.is_truncated or not page.uploads:
                return
            # The next page starts after the last upload of this one. minio stores the answer's
            # NextUploadIdMarker under a misspelt attribute, so it is taken from the upload itself.
            last = page.uploads[-1]
            key_marker, upload_id_marker = last.object_name, last.upload_id

    def _last_active(self, key: str, upload_id: str, initiated: datetime | None) -> datetime | None:
        """When the upload last received a part; None if it completed or went meanwhile.

        S3 lists only when an upload began, which a long upload soon leaves behind: its parts
        carry the times that show whether it is still going.
        """
        parts = self._part_times(key, upload_id)
        if parts is None:
            return None
        times = [*parts, initiated] if initiated is not None else parts
        if not times:
            raise self._failure(
                "list unfinished uploads in", None, "an upload came without a start time"
            )
        return max(times).astimezone(UTC)

    def _part_times(self, key: str, upload_id: str) -> Sequence[datetime] | None:
        """When each part of the upload arrived; None if there is no such upload (any more)."""
        times: list[datetime] = []
        marker: str | None = None
        while True:
            try:
                page = self._client._list_parts(
                    self.bucket, key, upload_id, max_parts=self.list_page, part_number_marker=marker
                )
            except S3Error as exc:
                if exc.code == "NoSuchUpload":
                    return None
                raise
            times.extend(part.last_modified for part in page.parts if part.last_modified)
            if not page.is_truncated or page.next_part_number_marker is None:
                return times
            marker = page.next_part_number_marker

    def _list(self, prefix: str) -> Iterator[ObjectInfo]:
        with self._errors("list", None):
            self._ensure_bucket()
            listing = self._client.list_objects(self.bucket, prefix=prefix or None, recursive=True)
            for found in listing:
                name = found.object_name
                # Names that are not keys were not written by the archive; they cannot be
                # asked for by key either, so they stay out of the listing.
                if name is not None and is_key(name):
                    yield self._info(name, found.size, found.last_modified)

    def _stream(
        self, response: urllib3.BaseHTTPResponse, key: str, chunk_size: int
    ) -> Iterator[bytes]:
        try:
            with self._errors("read", key):
                yield from response.stream(chunk_size)
        finally:
            response.close()
            response.release_conn()

    def _info(self, key: str, size: int | None, modified: datetime | None) -> ObjectInfo:
        if size is None or modified is None:
            raise self._failure("stat", key, "the answer lacked a size or a modification time")
        return ObjectInfo(key, size, modified.astimezone(UTC))

    @contextmanager
    def _errors(
        self, action: str, key: str | None, *, source: ChunkReader | None = None
    ) -> Iterator[None]:
        try:
            yield
        except _SDK_ERRORS as exc:
            if source is not None and exc is source.failure:
                raise  # the caller's own stream failed; that error is theirs, not ours
            if isinstance(exc, S3Error) and exc.code == "NoSuchKey" and key is not None:
                raise NotFound(f"no object {key!r} in the S3 store") from None
            if isinstance(exc, S3Error):
                reason = f"{exc.code}: {exc.message}"
            else:
                reason = f"{type(exc).__name__}: {exc}"
            raise self._failure(action, key, reason) from exc

    def _failure(self, action: str, key: str | None, reason: str) -> StorageError:
        metrics.store_failed(action)
        what = f"{action} object {key!r} in" if key is not None else action
        where = f"S3 store at {self.endpoint}"
        return StorageError(f"{where}: could not {what} bucket {self.bucket!r}: {reason}")
