"""What only the S3 store promises: real multipart uploads, bucket handling, clear failures."""

from __future__ import annotations

import io
import socket
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from minio.commonconfig import ENABLED
from minio.versioningconfig import VersioningConfig

from archive.errors import ConfigurationError, StorageError
from archive.storage import S3Store, UnfinishedUpload
from archive.testing.s3 import S3Endpoint, remove_bucket, unique_bucket

from .conftest import s3_spec
from .stores import MIB

pytestmark = pytest.mark.s3


def test_large_objects_go_up_in_parts(s3: S3Endpoint, s3_bucket: str) -> None:
    store = s3_spec(s3, s3_bucket).open()
    store.put("mp/object1", (b"p" * MIB for _ in range(12)))
    # A multipart upload's ETag ends in the number of parts: 5 + 5 + 2 MiB.
    assert str(s3.client().stat_object(s3_bucket, "mp/object1").etag).endswith("-3")


def test_small_objects_go_up_in_one_request(s3: S3Endpoint, s3_bucket: str) -> None:
    store = s3_spec(s3, s3_bucket).open()
    store.put("sp/object1", [b"small"])
    assert "-" not in str(s3.client().stat_object(s3_bucket, "sp/object1").etag)


def test_bucket_is_created_on_first_use(s3: S3Endpoint, s3_bucket: str) -> None:
    store = s3_spec(s3, s3_bucket).open()
    assert not s3.client().bucket_exists(s3_bucket)  # opening alone contacts nobody
    assert list(store.list()) == []
    assert s3.client().bucket_exists(s3_bucket)


def test_concurrent_stores_create_the_bucket_once(s3: S3Endpoint, s3_bucket: str) -> None:
    stores = [s3_spec(s3, s3_bucket).open() for _ in range(6)]
    start = threading.Barrier(len(stores))
    failures: list[BaseException] = []

    def first_use(store: S3Store) -> None:
        start.wait()
        try:
            store.check()
        except BaseException as exc:  # collected for the assertion below
            failures.append(exc)

    workers = [threading.Thread(target=first_use, args=(store,)) for store in stores]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert failures == []
    assert s3.client().bucket_exists(s3_bucket)


def test_object_lock_follows_the_bucket(s3: S3Endpoint) -> None:
    locked_bucket, plain_bucket = unique_bucket(), unique_bucket()
    try:
        locked = s3_spec(s3, locked_bucket).open(object_lock=True)
        plain = s3_spec(s3, plain_bucket).open()
        assert locked.supports_object_lock() is True
        assert plain.supports_object_lock() is False
    finally:
        remove_bucket(s3, locked_bucket)
        remove_bucket(s3, plain_bucket)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port  # nothing listens here once the probe socket is closed


def test_unreachable_endpoint_is_a_storage_error() -> None:
    secret = "do-not-print-this-secret"
    store = S3Store(
        f"127.0.0.1:{closed_port()}",
        "archive-key",
        secret,
        "archive",
        secure=False,
        region="eu-north-1",
        timeout=5.0,
    )

    attempts: list[Callable[[], object]] = [
        store.check,
        lambda: store.put("ab/object1", [b"x"]),
        lambda: list(store.list()),  # the listing is lazy: the request goes out when read
        lambda: list(store.unfinished_uploads()),
        lambda: store.abort_uploads([UnfinishedUpload("u1", "ab/object1", datetime.now(UTC))]),
    ]
    for call in attempts:
        with pytest.raises(StorageError) as raised:
            call()
        message = str(raised.value)
        assert "S3 store at 127.0.0.1" in message
        assert secret not in message
    assert secret not in repr(store)


@pytest.mark.parametrize(
    "options",
    [
        {"part_size": MIB},
        {"part_size": 6 * 1024 * MIB},
        {"delete_batch": 0},
        {"delete_batch": 1001},
        {"list_page": 0},
        {"list_page": 1001},
        {"bucket": "Not_A_Bucket"},
        {"bucket": "ab"},
        {"endpoint": "http://127.0.0.1:9000"},
    ],
    ids=[
        "part-too-small",
        "part-too-large",
        "no-batch",
        "batch-too-large",
        "no-page",
        "page-too-large",
        "bad-bucket",
        "short-bucket",
        "endpoint-with-scheme",
    ],
)
def test_impossible_settings_are_a_configuration_error(
    s3: S3Endpoint, options: dict[str, object]
) -> None:
    with pytest.raises(ConfigurationError):
        s3_spec(s3, "archive").open(**options)


def test_legal_holds_and_complete_deletes_in_a_locked_bucket(s3: S3Endpoint) -> None:
    bucket = unique_bucket()
    try:
        store = s3_spec(s3, bucket).open(object_lock=True)
        store.put("ab/cd/kept", [b"ciphertext that must survive"])
        store.put("ab/cd/gone", [b"ciphertext that must go"])
        store.set_legal_hold(["ab/cd/kept"], True)
        client = s3.client()
        assert client.is_object_legal_hold_enabled(bucket, "ab/cd/kept") is True
        assert client.is_object_legal_hold_enabled(bucket, "ab/cd/gone") is False

        # The store itself refuses to delete an object under legal hold.
        with pytest.raises(StorageError):
            store.delete_many(["ab/cd/kept"])
        assert store.exists("ab/cd/kept")

        # Every version goes, not just the key: no ciphertext stays behind a delete marker.
        store.delete_many(["ab/cd/gone"])
        versions = list(client.list_objects(bucket, prefix="ab/cd/gone", include_version=True))
        assert versions == []

        store.set_legal_hold(["ab/cd/kept"], False)
        store.delete_many(["ab/cd/kept"])
        assert list(client.list_objects(bucket, prefix="ab/", include_version=True)) == []
    finally:
        remove_bucket(s3, bucket)


def test_legal_holds_are_nothing_on_a_plain_bucket(s3: S3Endpoint, s3_bucket: str) -> None:
    store = s3_spec(s3, s3_bucket).open()
    store.put("ab/cd/one", [b"x"])
    store.set_legal_hold(["ab/cd/one"], True)  # no object lock: the database alone holds
    store.delete_many(["ab/cd/one"])
    assert not store.exists("ab/cd/one")


def test_a_large_batch_goes_in_requests_of_a_thousand_keys(s3: S3Endpoint, s3_bucket: str) -> None:
    """Counted in the SDK's own trace of the HTTP requests it sends."""
    store = s3_spec(s3, s3_bucket).open(delete_batch=1000)
    keys = [f"{number % 256:02x}/object{number}" for number in range(2500)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda key: store.put(key, [b"c"]), keys))
    store.put("ke/pt", [b"kept"])
    trace = io.StringIO()
    store.client.trace_on(trace)
    try:
        store.delete_many(keys)
    finally:
        store.client.trace_off()

    requests = [line for line in trace.getvalue().splitlines() if line.startswith("POST ")]
    assert len(requests) == 3, requests
    assert all("?delete" in line for line in requests)
    assert [info.key for info in store.list()] == ["ke/pt"]


def test_a_versioned_bucket_loses_every_version(s3: S3Endpoint, s3_bucket: str) -> None:
    """Versioning on, without object lock: deleting the key alone would leave the ciphertext
    behind a delete marker."""
    store = s3_spec(s3, s3_bucket).open()
    store.check()  # creates the bucket
    client = s3.client()
    client.set_bucket_versioning(s3_bucket, VersioningConfig(ENABLED))
    for version in range(3):
        store.put("ab/cd/rewritten", [f"version {version}".encode()])
    store.put("ab/cd/kept", [b"kept"])

    store.delete_many(["ab/cd/rewritten"])

    left = list(client.list_objects(s3_bucket, prefix="ab/", recursive=True, include_version=True))
    assert [(item.object_name, item.is_delete_marker) for item in left] == [("ab/cd/kept", False)]


def test_a_batch_in_a_locked_bucket_loses_its_holds_and_every_version(s3: S3Endpoint) -> None:
    """Legal holds and version listings go one object per request, several at a time."""
    bucket = unique_bucket()
    try:
        store = s3_spec(s3, bucket).open(object_lock=True)
        keys = [f"lk/object{number}" for number in range(20)]
        for key in [*keys, *keys]:  # two versions of each
            store.put(key, [key.encode()])
        store.put("lk/kept", [b"kept"])
        store.set_legal_hold([*keys, "lk/kept"], True)
        client = s3.client()
        assert all(client.is_object_legal_hold_enabled(bucket, key) for key in keys)

        store.set_legal_hold(keys, False)
        store.delete_many(keys)

        left = client.list_objects(bucket, prefix="lk/", recursive=True, include_version=True)
        assert [item.object_name for item in left] == ["lk/kept"]
        assert client.is_object_legal_hold_enabled(bucket, "lk/kept") is True
    finally:
        store.set_legal_hold(["lk/kept"], False)
        remove_bucket(s3, bucket)
