"""The object store contract: every backend stores, reads, lists and deletes alike."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from archive.errors import InvalidInput, NotFound
from archive.storage import ObjectInfo, ObjectStore

from .conftest import TEST_DELETE_BATCH

MIB = 1 << 20


def split(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def read_all(store: ObjectStore, key: str, chunk_size: int = MIB) -> bytes:
    return b"".join(store.iter_chunks(key, chunk_size))


@pytest.mark.parametrize(
    ("size", "chunk_size"),
    [(0, 1), (1, 1), (1000, 7), (1000, 4096), (MIB + 3, 64 * 1024 + 1)],
    ids=["empty", "one-byte", "odd-chunks", "one-chunk", "mib-and-a-bit"],
)
def test_round_trip(store: ObjectStore, size: int, chunk_size: int) -> None:
    data = os.urandom(size)

    written = store.put("ab/cdef01", split(data, chunk_size))

    assert written == size
    assert store.read("ab/cdef01", 0, size + 10) == data
    assert read_all(store, "ab/cdef01", chunk_size=3 if size < 5000 else MIB) == data
    assert store.stat("ab/cdef01").size == size


def test_empty_chunks_in_the_stream_are_harmless(store: ObjectStore) -> None:
    assert store.put("k1", iter([b"", b"abc", b"", b"", b"de", b""])) == 5
    assert store.read("k1", 0, 100) == b"abcde"


def test_multipart_upload_round_trip(store: ObjectStore) -> None:
    # Larger than two 5 MiB parts and not a multiple of the part or chunk size.
    data = os.urandom(12 * MIB + 123)

    assert store.put("mp/object1", split(data, MIB + 1)) == len(data)

    streamed = hashlib.sha256()
    for chunk in store.iter_chunks("mp/object1", chunk_size=MIB):
        assert 0 < len(chunk) <= MIB
        streamed.update(chunk)
    assert streamed.digest() == hashlib.sha256(data).digest()
    assert store.read("mp/object1", 5 * MIB - 2, 4) == data[5 * MIB - 2 : 5 * MIB + 2]
    assert store.stat("mp/object1").size == len(data)


def test_put_replaces_an_existing_object(store: ObjectStore) -> None:
    store.put("k1", [b"first version"])
    store.put("k1", [b"second"])
    assert store.read("k1", 0, 100) == b"second"


def test_iter_chunks_respects_chunk_size(store: ObjectStore) -> None:
    store.put("k1", [b"0123456789"])
    chunks = list(store.iter_chunks("k1", chunk_size=3))
    assert b"".join(chunks) == b"0123456789"
    assert all(0 < len(chunk) <= 3 for chunk in chunks)
    assert list(store.iter_chunks("k1", chunk_size=100)) == [b"0123456789"]


@pytest.mark.parametrize(
    ("offset", "length", "expected"),
    [
        (0, 10, slice(0, 10)),
        (0, 1000, slice(0, 1000)),
        (0, 5000, slice(0, 1000)),
        (990, 10, slice(990, 1000)),
        (999, 1, slice(999, 1000)),
        (995, 10, slice(995, 1000)),
        (1000, 1, slice(0, 0)),
        (5000, 10, slice(0, 0)),
        (0, 0, slice(0, 0)),
        (500, 0, slice(0, 0)),
    ],
    ids=[
        "start",
        "whole",
        "longer-than-object",
        "last-ten",
        "last-byte",
        "across-end",
        "at-end",
        "past-end",
        "empty-at-start",
        "empty-in-middle",
    ],
)
def test_ranged_read(store: ObjectStore, offset: int, length: int, expected: slice) -> None:
    data = os.urandom(1000)
    store.put("rg/object1", [data])
    assert store.read("rg/object1", offset, length) == data[expected]


@pytest.mark.parametrize(
    ("offset", "length", "expected"),
    [(0, 1000, slice(0, 1000)), (990, 100, slice(990, 1000)), (1000, 10, slice(0, 0))],
    ids=["whole", "across-end", "at-end"],
)
def test_read_into_a_buffer(store: ObjectStore, offset: int, length: int, expected: slice) -> None:
    data = os.urandom(1000)
    store.put("rg/object1", [data])
    buffer = bytearray(b"\xff" * (length + 5))
    filled = store.read_into("rg/object1", offset, memoryview(buffer)[:length])
    assert buffer[:filled] == data[expected]
    assert buffer[filled:] == b"\xff" * (length + 5 - filled)


def test_read_into_a_missing_object_is_not_found(store: ObjectStore) -> None:
    with pytest.raises(NotFound):
        store.read_into("no/such", 0, memoryview(bytearray(10)))


def test_ranged_read_of_an_empty_object(store: ObjectStore) -> None:
    store.put("k1", [])
    assert store.read("k1", 0, 1) == b""
    assert store.read("k1", 0, 0) == b""
    assert list(store.iter_chunks("k1")) == []


@pytest.mark.parametrize(("offset", "length"), [(-1, 1), (0, -1)])
def test_negative_range_is_rejected(store: ObjectStore, offset: int, length: int) -> None:
    store.put("k1", [b"abc"])
    with pytest.raises(InvalidInput):
        store.read("k1", offset, length)


def test_zero_chunk_size_is_rejected(store: ObjectStore) -> None:
    store.put("k1", [b"abc"])
    with pytest.raises(InvalidInput):
        store.iter_chunks("k1", chunk_size=0)


def test_stat_and_exists(store: ObjectStore) -> None:
    before = datetime.now(UTC)
    store.put("st/object1", [b"x" * 4321])
    after = datetime.now(UTC)

    info = store.stat("st/object1")

    assert info.key == "st/object1"
    assert info.size == 4321
    assert info.modified.utcoffset() == timedelta(0)
    # S3 reports modification times to the second.
    assert before - timedelta(seconds=2) <= info.modified <= after + timedelta(seconds=2)
    assert store.exists("st/object1")
    assert not store.exists("st/object2")
    assert not store.exists("st")  # the start of a key is not an object


def test_missing_object_is_not_found(store: ObjectStore) -> None:
    store.put("ab/present", [b"x"])
    with pytest.raises(NotFound):
        store.stat("ab/missing")
    with pytest.raises(NotFound):
        store.read("ab/missing", 0, 10)
    with pytest.raises(NotFound):
        store.read("ab/missing", 0, 0)
    with pytest.raises(NotFound):
        store.iter_chunks("ab/missing")  # raised by the call, before any chunk is asked for
    with pytest.raises(NotFound):
        store.stat("ab")


def test_delete_many_crosses_batches_and_is_idempotent(store: ObjectStore) -> None:
    keys = [f"dl/object{number}" for number in range(3 * TEST_DELETE_BATCH + 2)]
    for key in keys:
        store.put(key, [key.encode()])
    store.put("keep/object1", [b"kept"])

    store.delete_many(key for key in [*keys, "dl/nevermade", keys[0]])

    assert [info.key for info in store.list()] == ["keep/object1"]
    store.delete_many(keys)  # already gone: nothing to do, nothing to complain about
    store.delete_many([])
    assert store.read("keep/object1", 0, 10) == b"kept"


def test_list(store: ObjectStore) -> None:
    for key, size in [("ab/c1", 1), ("ab/c2", 22), ("ac/d1", 333), ("b1", 0), ("ab/cd/e1", 5)]:
        store.put(key, [b"z" * size])

    def keys(prefix: str = "") -> list[str]:
        return sorted(info.key for info in store.list(prefix))

    assert keys() == ["ab/c1", "ab/c2", "ab/cd/e1", "ac/d1", "b1"]
    assert keys("ab/") == ["ab/c1", "ab/c2", "ab/cd/e1"]
    assert keys("ab/c") == ["ab/c1", "ab/c2", "ab/cd/e1"]
    assert keys("ab/cd/") == ["ab/cd/e1"]
    assert keys("a") == ["ab/c1", "ab/c2", "ab/cd/e1", "ac/d1"]
    assert keys("zz") == []
    assert keys("zz/") == []
    listed = {info.key: info for info in store.list()}
    assert listed["ac/d1"] == store.stat("ac/d1")
    assert isinstance(listed["b1"], ObjectInfo)
    assert listed["b1"].size == 0


def test_list_of_an_empty_store(store: ObjectStore) -> None:
    assert list(store.list()) == []


def test_check_passes_on_a_working_store(store: ObjectStore) -> None:
    store.check()
    assert store.name in {"local", "s3"}
    assert store.supports_object_lock() is False  # no backend turns it on unasked


def test_long_valid_key(store: ObjectStore) -> None:
    key = "/".join(["a" * 255] * 4)  # 1023 characters, every segment at the limit
    store.put(key, [b"long"])
    assert store.read(key, 0, 4) == b"long"
    assert [info.key for info in store.list()] == [key]
