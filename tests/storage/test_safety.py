"""The store contract under failure and abuse: atomic writes, safe keys, bounded memory."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from archive.errors import InvalidInput
from archive.storage import LocalStore, ObjectStore

from .stores import MIB, StoreSpec, unfinished_writes


class UploadAbortedError(Exception):
    """Stands for whatever can break the caller's stream: a dropped upload, a cipher error."""


def failing_stream(good_bytes: int, error: Exception | None = None) -> Iterator[bytes]:
    sent = 0
    while sent < good_bytes:
        chunk = b"q" * min(MIB, good_bytes - sent)
        sent += len(chunk)
        yield chunk
    raise error or UploadAbortedError("the stream broke")


# 0: before any byte; 1000: inside the first part; 6 MiB: after S3 has received a whole part.
@pytest.mark.parametrize("good_bytes", [0, 1000, 6 * MIB], ids=["at-once", "early", "late"])
def test_failed_put_leaves_nothing(
    store: ObjectStore, store_spec: StoreSpec, good_bytes: int
) -> None:
    with pytest.raises(UploadAbortedError):  # the caller's own error, not wrapped
        store.put("at/object1", failing_stream(good_bytes))

    assert not store.exists("at/object1")
    assert list(store.list()) == []
    assert unfinished_writes(store_spec) == []


def test_callers_os_error_is_not_mistaken_for_a_storage_error(
    store: ObjectStore, store_spec: StoreSpec
) -> None:
    # A dropped client connection is an OSError too, yet the store itself is fine.
    dropped = ConnectionResetError("client hung up")
    with pytest.raises(ConnectionResetError) as raised:
        store.put("at/object1", failing_stream(6 * MIB, dropped))

    assert raised.value is dropped
    assert not store.exists("at/object1")
    assert unfinished_writes(store_spec) == []


def test_failed_put_keeps_the_previous_object(store: ObjectStore, store_spec: StoreSpec) -> None:
    store.put("at/object1", [b"the original"])

    with pytest.raises(UploadAbortedError):
        store.put("at/object1", failing_stream(6 * MIB))

    assert store.read("at/object1", 0, 100) == b"the original"
    assert unfinished_writes(store_spec) == []


HOSTILE_KEYS = [
    "",
    ".",
    "..",
    "../x",
    "ab/../../etc",
    "/etc/passwd",
    "ab/",
    "/ab",
    "ab//cd",
    "AB",
    "ab.cd",
    ".tmp/x",
    "ab\\cd",
    "ab cd",
    "ab\x00cd",
    "ab\ncd",
    "\u00e4b",
    "ab/" + "c" * 256,
    "/".join(["a" * 200] * 6),
]


@pytest.mark.parametrize("key", HOSTILE_KEYS)
def test_hostile_keys_are_rejected(store: ObjectStore, key: str) -> None:
    store.put("ok/object1", [b"x"])
    calls: list[Callable[[], object]] = [
        lambda: store.put(key, [b"payload"]),
        lambda: store.read(key, 0, 1),
        lambda: store.iter_chunks(key),
        lambda: store.stat(key),
        lambda: store.exists(key),
        lambda: store.delete_many(["ok/object1", key]),
    ]
    for call in calls:
        with pytest.raises(InvalidInput):
            call()

    # Nothing written, and a batch holding one bad key deletes nothing at all.
    assert [info.key for info in store.list()] == ["ok/object1"]


def test_non_string_keys_are_rejected(store: ObjectStore) -> None:
    with pytest.raises(InvalidInput):
        store.stat(b"ab")  # type: ignore[arg-type]


@pytest.mark.parametrize("prefix", ["/", "/ab", "..", "../", "AB", "ab//", "a.b"])
def test_hostile_list_prefixes_are_rejected(store: ObjectStore, prefix: str) -> None:
    with pytest.raises(InvalidInput):
        store.list(prefix)


def test_local_key_cannot_escape_the_root(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "objects")
    for key in HOSTILE_KEYS:
        with pytest.raises(InvalidInput):
            store.put(key, [b"escaped"])
    written = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert written == []


STREAM_MIB = 200
MEMORY_LIMIT = 64 * MIB


def test_put_streams_in_bounded_memory(store_spec: StoreSpec) -> None:
    """A 200 MiB stream must not be held in memory: growth stays far below its size.

    The upload runs in a child process so that the in-process S3 server's own memory does
    not count; the S3 store uses its default part size there.
    """
    spec = store_spec
    if spec.kind == "s3":
        spec = StoreSpec(
            "s3", {key: value for key, value in spec.options.items() if key != "part_size"}
        )
    request = {"spec": spec.to_json(), "key": "mem/object1", "chunk_count": STREAM_MIB}
    probe = Path(__file__).with_name("stores.py")

    finished = subprocess.run(
        [sys.executable, str(probe)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert finished.returncode == 0, finished.stderr
    result = json.loads(finished.stdout)
    assert result["written"] == STREAM_MIB * MIB
    assert result["growth"] < MEMORY_LIMIT, (
        f"upload grew memory by {result['growth'] / MIB:.1f} MiB"
    )
    assert spec.open().stat("mem/object1").size == STREAM_MIB * MIB
