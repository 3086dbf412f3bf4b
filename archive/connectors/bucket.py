"""An S3 prefix a contact centre exports recordings to, read with ListObjectsV2 in key order
from a start-after marker.

Keys do not arrive in key order: a recording is named by when its call started and exported
when it ended, so a long call's key lands before a short later one's. The marker therefore
lags: it passes a key only once every key up to it is dealt with and the object is older
than the window (ARCHIVE_WATCH_BUCKET_WINDOW_SECONDS), by when nothing exported later can
sort before it. The recordings after the marker already dealt with are kept in the cursor
as the recent set, so a pass lists them again but does not fetch them again.

The archive only reads the bucket (list and get); it never changes it. S3 writes an object
whole, so a listed recording is complete; in sidecar mode it waits for its sidecar as in a
folder. The marker and the recent set are the connectors' cursor, kept encrypted.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from urllib.parse import urlsplit

import urllib3
from minio import Minio
from minio.error import S3Error

from archive.connectors.recordings import (
    MAX_SIDECAR_BYTES,
    NamePattern,
    compile_pattern,
    is_sidecar,
    sidecar_name,
    zone,
)
from archive.crypto.fields import decrypt_field, encrypt_field
from archive.crypto.keyring import Keyring, new_data_key
from archive.errors import ConfigurationError
from archive.settings import Settings

CHUNK = 1 << 20
_URL = re.compile(r"s3://(?P<bucket>[^/]+)/(?P<prefix>.*)")
# A source that does not answer is tried again at the next pass, not for minutes in this one.
_TIMEOUT = urllib3.Timeout(connect=5, read=60)
_RETRIES = urllib3.Retry(total=2, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504])
MISSING = ("NoSuchKey", "NoSuchObject")
# Recordings after the marker kept as dealt with, at most: each is 16 bytes of its key's
# SHA-256, so a full set is some 200 kB of cursor. Past it the marker is moved on past done
# recordings younger than the window (see Progress in the pass), never past one not done.
MAX_RECENT = 10_000
DIGEST = 16


@dataclass(frozen=True)
class BucketWatch:
    """How one prefix is watched (from ARCHIVE_WATCH_BUCKET and its endpoint and keys)."""

    url: str
    bucket: str
    prefix: str
    endpoint: str
    secure: bool
    access_key: str
    secret_key: str
    pattern: NamePattern
    sidecar: str
    local: tzinfo
    window: timedelta
    """How long the marker stays before a recording dealt with (see the module's note)."""

    @classmethod
    def of(cls, settings: Settings, url: str | None = None) -> BucketWatch:
        """The watch of `url` (default ARCHIVE_WATCH_BUCKET) under `settings`."""
        url = url or settings.watch_bucket
        parsed = _URL.fullmatch(url)
        if parsed is None:
            raise ConfigurationError(f"{url!r} is not a bucket's prefix such as s3://bucket/calls/")
        if settings.watch_s3_endpoint:
            address = urlsplit(settings.watch_s3_endpoint)
            endpoint, secure = address.netloc, address.scheme == "https"
        else:
            endpoint, secure = settings.s3_endpoint or "", settings.s3_secure
        access_key = settings.watch_s3_access_key or settings.s3_access_key or ""
        secret_key = settings.watch_s3_secret_key or settings.s3_secret_key or ""
        if not (endpoint and access_key and secret_key):
            raise ConfigurationError(
                "a bucket to watch needs ARCHIVE_WATCH_S3_ENDPOINT, ARCHIVE_WATCH_S3_ACCESS_KEY "
                "and ARCHIVE_WATCH_S3_SECRET_KEY (or the archive's own ARCHIVE_S3_*)"
            )
        return cls(
            url=url,
            bucket=parsed["bucket"],
            prefix=parsed["prefix"],
            endpoint=endpoint,
            secure=secure,
            access_key=access_key,
            secret_key=secret_key,
            pattern=compile_pattern(settings.watch_pattern),
            sidecar=settings.watch_sidecar,
            local=zone(settings.watch_timezone),
            window=timedelta(seconds=settings.watch_bucket_window_seconds),
        )

    @property
    def source(self) -> str:
        return self.url

    def client(self) -> Minio:
        http = urllib3.PoolManager(timeout=_TIMEOUT, retries=_RETRIES)
        return Minio(
            self.endpoint,
            access_key=self.access_key,
            secret_key=self.secret_key,
            secure=self.secure,
            http_client=http,
        )


@dataclass(frozen=True)
class Listed:
    key: str
    relative: str
    """The key under the prefix: the recording's identity when its name gives none."""
    modified: datetime | None = None
    """When S3 says the object was written (None: it does not say)."""

    @property
    def name(self) -> str:
        return self.key.rsplit("/", 1)[-1]


def listed(client: Minio, watch: BucketWatch, after: str) -> Iterator[Listed]:
    """The recordings under the prefix after the key `after`, in key order (sidecars and
    folder markers passed over)."""
    for item in client.list_objects(
        watch.bucket, prefix=watch.prefix or None, recursive=True, start_after=after or None
    ):
        key = item.object_name
        if not key or item.is_dir or key.endswith("/") or is_sidecar(key):
            continue
        yield Listed(key, key[len(watch.prefix) :], item.last_modified)


def object_chunks(client: Minio, watch: BucketWatch, key: str) -> Iterator[bytes]:
    """An object's bytes, streamed."""
    response = client.get_object(watch.bucket, key)
    try:
        yield from response.stream(CHUNK)
    finally:
        response.close()
        response.release_conn()


def sidecar_of(client: Minio, watch: BucketWatch, key: str) -> bytes | None:
    """The recording's sidecar (at most one byte over the limit, which is refused), or None
    when it is not there yet."""
    try:
        response = client.get_object(
            watch.bucket, sidecar_name(key, watch.sidecar), length=MAX_SIDECAR_BYTES + 1
        )
    except S3Error as error:
        if error.code in MISSING:
            return None
        if error.code == "InvalidRange":
            return b""  # an empty object has no first byte to start a range at
        raise
    try:
        return bytes(response.read())
    finally:
        response.close()
        response.release_conn()


@dataclass
class Cursor:
    """Where a pass starts: after `start_after` ("" from the beginning), passing over the
    recordings in `recent` (digests of keys after the marker, each stored or refused)."""

    start_after: str = ""
    recent: set[bytes] = field(default_factory=set)


def digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()[:DIGEST]


def sealed_cursor(keyring: Keyring, watch: BucketWatch, cursor: Cursor) -> dict[str, str]:
    """The cursor as the database keeps it: encrypted under a data key of its own, as a key
    may hold a caller's number (`20260302-093000-0401234567-….wav`), and a digest of a key
    this guessable could be matched against guesses."""
    context = f"connector-cursor:{watch.source}"
    data_key = new_data_key()
    kek_id, wrapped = keyring.wrap(data_key, context)
    recent = base64.b64encode(b"".join(sorted(cursor.recent))).decode()
    return {
        "kek_id": kek_id,
        "wrapped_key": base64.b64encode(wrapped).decode(),
        "start_after": base64.b64encode(
            encrypt_field(data_key, cursor.start_after, context)
        ).decode(),
        "recent": base64.b64encode(encrypt_field(data_key, recent, context)).decode(),
    }


def opened_cursor(keyring: Keyring, watch: BucketWatch, position: Mapping[str, object]) -> Cursor:
    """The cursor `sealed_cursor` made (an empty one for none; no recent set in a cursor kept
    before there was one)."""
    if not position.get("wrapped_key"):
        return Cursor()
    context = f"connector-cursor:{watch.source}"
    wrapped = base64.b64decode(str(position["wrapped_key"]))
    data_key = keyring.unwrap(str(position["kek_id"]), wrapped, context)

    def opened(name: str) -> str:
        value = position.get(name)
        if not value:
            return ""
        return decrypt_field(data_key, base64.b64decode(str(value)), context)

    packed = base64.b64decode(opened("recent"))
    recent = {packed[at : at + DIGEST] for at in range(0, len(packed), DIGEST)}
    return Cursor(opened("start_after"), recent)


def reference(key: str) -> str:
    """How logs name an object: its key's SHA-256, as the key may hold a caller's number
    (`printf %s KEY | sha256sum` finds it)."""
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()[:16]


def is_unreadable(error: BaseException) -> bool:
    """An object S3 will not hand over as it is (archived to Glacier or Deep Archive): it is
    refused rather than let hold the marker for ever."""
    return isinstance(error, S3Error) and error.code == "InvalidObjectState"


def is_missing(error: BaseException) -> bool:
    """A listed object gone before it was read: there is nothing left to archive."""
    return isinstance(error, S3Error) and error.code in MISSING
