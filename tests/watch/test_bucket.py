"""A bucket's prefix on a real S3 server: read in key order from the start-after marker, each
recording stored once; a failure part way and a restart lose nothing and double nothing."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from minio import Minio
from minio.deleteobjects import DeleteObject
from sqlalchemy import select

from archive.clock import FixedClock
from archive.connectors.activity import SourceReport, report
from archive.connectors.bucket import (
    BucketWatch,
    Cursor,
    Listed,
    digest,
    opened_cursor,
    sealed_cursor,
)
from archive.connectors.models import ConnectorCursor
from archive.connectors.schemas import connector_out
from archive.connectors.use_cases.bucket import (
    Progress,
    read_cursor,
    save_cursor,
    start_after,
    watch_bucket,
)
from archive.crypto.fields import encrypt_field
from archive.crypto.keyring import generate_key_material, new_data_key
from archive.runtime import Runtime
from archive.settings import Settings
from archive.testing.s3 import S3Endpoint, remove_bucket, unique_bucket

from .proxy import BreakingRelay
from .support import asterisk_name, stored_calls, wav


@pytest.fixture
def source(s3: S3Endpoint) -> Iterator[tuple[Minio, str]]:
    """A bucket of the test's own that a contact centre exports to."""
    client = s3.client()
    bucket = unique_bucket("export")
    client.make_bucket(bucket)
    yield client, bucket
    remove_bucket(s3, bucket)


def put(client: Minio, bucket: str, key: str, data: bytes) -> None:
    client.put_object(bucket, key, io.BytesIO(data), len(data))


def bucket_watch(
    runtime: Runtime, s3: S3Endpoint, url: str, host: str | None = None, *, window: int = 0
) -> BucketWatch:
    """The watch of `url`; `window` 0 (keys taken to only grow) unless a test is about it."""
    settings = replace(
        runtime.settings,
        watch_s3_endpoint=f"http://{host or s3.host}",
        watch_s3_access_key=s3.access_key,
        watch_s3_secret_key=s3.secret_key,
        watch_bucket_window_seconds=window,
    )
    return BucketWatch.of(settings, url)


def test_each_pass_starts_after_the_marker_and_leaves_the_bucket_as_it_was(
    runtime: Runtime, s3: S3Endpoint, source: tuple[Minio, str]
) -> None:
    client, bucket = source
    for number in (1, 2, 3):
        put(client, bucket, f"calls/{asterisk_name(number)}", wav(number))
    put(client, bucket, f"calls/{asterisk_name(4)}", b"no recording, though named as one")
    put(client, bucket, f"other/{asterisk_name(5)}", wav(5))  # not under the prefix
    watch = bucket_watch(runtime, s3, f"s3://{bucket}/calls/")
    first = watch_bucket(runtime, watch)
    assert (first.stored, first.refused, first.deferred) == (3, 1, 0)
    # The refused one is passed, not tried again at every pass.
    assert start_after(runtime, watch) == f"calls/{asterisk_name(4)}"
    # The marker is kept encrypted: a key may hold a caller's number.
    with runtime.session() as session:
        (kept,) = session.scalars(select(ConnectorCursor.position)).all()
    assert "0401234567" not in kept
    assert "calls/" not in kept
    put(client, bucket, f"calls/{asterisk_name(6)}", wav(6))
    put(client, bucket, f"calls/{asterisk_name(7)}", wav(7))
    second = watch_bucket(runtime, watch, limit=1)
    assert (second.stored, second.repeated) == (1, 0)
    third = watch_bucket(runtime, watch)
    assert (third.stored, third.repeated, third.refused) == (1, 0, 0)
    stored = stored_calls(runtime)
    assert sorted(call.raw for call in stored) == sorted(wav(n) for n in (1, 2, 3, 6, 7))
    assert {call.source for call in stored} == {"bucket"}
    assert len(list(client.list_objects(bucket, recursive=True))) == 7


@pytest.mark.parametrize("backend", ["postgresql-s3"], indirect=True)
def test_a_failure_part_way_and_a_restart_store_each_recording_once(
    runtime: Runtime, s3: S3Endpoint, source: tuple[Minio, str]
) -> None:
    client, bucket = source
    numbers = range(10, 15)
    for number in numbers:
        put(client, bucket, f"cc/{asterisk_name(number)}", wav(number))
    url = f"s3://{bucket}/cc/"
    # The bucket unreachable from the start: the pass says so, and nothing moves.
    with BreakingRelay(s3.host, budget=0) as relay:
        down = watch_bucket(runtime, bucket_watch(runtime, s3, url, relay.address))
    assert down.error is not None
    assert (down.stored, start_after(runtime, bucket_watch(runtime, s3, url))) == (0, "")
    # The endpoint breaks after the listing and two recordings (its region, the listing,
    # then one request for each recording).
    with BreakingRelay(s3.host, budget=4) as relay:
        broken = watch_bucket(runtime, bucket_watch(runtime, s3, url, relay.address))
        assert relay.broken.is_set()
    assert (broken.stored, broken.deferred) == (2, 1)
    assert start_after(runtime, bucket_watch(runtime, s3, url)) == f"cc/{asterisk_name(11)}"
    # A restart, as a new process: it goes on from the marker.
    restarted = watch_bucket(runtime, bucket_watch(runtime, s3, url))
    assert (restarted.stored, restarted.repeated, restarted.deferred) == (3, 0, 0)
    assert sorted(call.raw for call in stored_calls(runtime)) == sorted(wav(n) for n in numbers)
    assert start_after(runtime, bucket_watch(runtime, s3, url)) == f"cc/{asterisk_name(14)}"
    # A kill between a recording's commit and the marker's move leaves the marker before it:
    # the next pass finds it stored.
    watch = bucket_watch(runtime, s3, url)
    save_cursor(runtime, watch, Cursor(f"cc/{asterisk_name(13)}"))
    again = watch_bucket(runtime, watch)
    assert (again.stored, again.repeated) == (0, 1)
    assert len(stored_calls(runtime)) == len(numbers)


@pytest.mark.parametrize("backend", ["postgresql-s3"], indirect=True)
def test_with_sidecars_the_marker_waits_for_a_recordings_sidecar(
    runtime: Runtime, s3: S3Endpoint, source: tuple[Minio, str]
) -> None:
    client, bucket = source
    put(client, bucket, "a.wav", wav(20))
    put(client, bucket, "b.wav", wav(21))
    put(client, bucket, "b.wav.meta.json", b'{"caller": "0401234567", "external_id": "b-1"}')
    watch = replace(bucket_watch(runtime, s3, f"s3://{bucket}/"), sidecar="json")
    waiting = watch_bucket(runtime, watch)
    assert (waiting.stored, waiting.waiting) == (0, 1)
    assert start_after(runtime, watch) == ""
    put(client, bucket, "a.wav.meta.json", b'{"caller": "0401234567", "external_id": "a-1"}')
    done = watch_bucket(runtime, watch)
    assert (done.stored, done.waiting) == (2, 0)
    assert [call.details["external_id"] for call in stored_calls(runtime)] == ["a-1", "b-1"]


@pytest.mark.parametrize("backend", ["postgresql-s3"], indirect=True)
def test_a_listing_broken_between_its_pages_goes_on_from_the_marker(
    runtime: Runtime, s3: S3Endpoint, source: tuple[Minio, str]
) -> None:
    client, bucket = source
    put(client, bucket, "a/" + asterisk_name(30), wav(30))
    # A thousand sidecars of nothing between the two recordings: S3 lists a thousand keys a
    # page, so the second recording is on the listing's second page.
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: put(client, bucket, f"b/{n:04}.wav.meta.json", b"{}"), range(1000)))
    put(client, bucket, "c/" + asterisk_name(31), wav(31))
    url = f"s3://{bucket}/"
    # Its region, the first page, the first recording; then the second page fails.
    with BreakingRelay(s3.host, budget=3) as relay:
        broken = watch_bucket(runtime, bucket_watch(runtime, s3, url, relay.address))
        assert relay.broken.is_set()
    assert broken.stored == 1
    assert broken.error is not None
    assert start_after(runtime, bucket_watch(runtime, s3, url)) == "a/" + asterisk_name(30)
    restarted = watch_bucket(runtime, bucket_watch(runtime, s3, url))
    assert (restarted.stored, restarted.repeated, restarted.error) == (1, 0, None)
    assert sorted(call.raw for call in stored_calls(runtime)) == sorted([wav(30), wav(31)])
    # At once, rather than one by one as the fixture empties a bucket.
    junk = [DeleteObject(f"b/{n:04}.wav.meta.json") for n in range(1000)]
    assert not list(client.remove_objects(bucket, junk))


# Named by when each call started, as the default pattern reads them: call A started at 09:30
# and ended at 09:45, call B started at 09:31 and ended at 09:32.
CALL_A = "calls/20260302-093000-0402222222-101-1772443800.1.wav"
CALL_B = "calls/20260302-093100-0401111111-100-1772443860.2.wav"
HOURS = 6 * 3600


@pytest.mark.parametrize("backend", ["postgresql-s3"], indirect=True)
def test_a_recording_exported_after_a_later_key_is_still_stored_and_none_is_fetched_twice(
    runtime: Runtime, s3: S3Endpoint, source: tuple[Minio, str]
) -> None:
    client, bucket = source
    url = f"s3://{bucket}/calls/"
    assert runtime.settings.watch_bucket_window_seconds == HOURS  # the default, not the tests'
    watch = bucket_watch(runtime, s3, url, window=runtime.settings.watch_bucket_window_seconds)
    put(client, bucket, CALL_B, wav(2))  # B is exported first
    first = watch_bucket(runtime, watch)
    assert (first.stored, first.repeated) == (1, 0)
    # B is too young for the marker to pass: a call that started before it may still end.
    assert read_cursor(runtime, watch) == Cursor("", {digest(CALL_B)})
    put(client, bucket, CALL_A, wav(1))  # then A, under a smaller key
    with BreakingRelay(s3.host, budget=1000) as relay:
        second = watch_bucket(runtime, replace(watch, endpoint=relay.address))
        fetched = relay.requests
    # A is stored; B is listed again but neither fetched nor stored again.
    assert (second.stored, second.repeated, second.error) == (1, 0, None)
    with BreakingRelay(s3.host, budget=1000) as relay:
        third = watch_bucket(runtime, replace(watch, endpoint=relay.address))
        # Its region and the listing: no recording is fetched.
        assert relay.requests == 2 < fetched
    assert (third.stored, third.repeated) == (0, 0)
    assert sorted(call.raw for call in stored_calls(runtime)) == sorted([wav(1), wav(2)])
    # The cursor is kept encrypted, the recent set too: a key may hold a caller's number.
    with runtime.session() as session:
        (kept,) = session.scalars(select(ConnectorCursor.position)).all()
    for secret in (
        "0401111111",
        "0402222222",
        "calls/",
        *(d.hex() for d in read_cursor(runtime, watch).recent),
    ):
        assert secret not in kept


@pytest.mark.parametrize("backend", ["postgresql-s3"], indirect=True)
def test_the_marker_passes_recordings_once_they_are_older_than_the_window(
    runtime: Runtime, s3: S3Endpoint, source: tuple[Minio, str]
) -> None:
    client, bucket = source
    for number in (40, 41, 42):
        put(client, bucket, asterisk_name(number), wav(number))
    watch = bucket_watch(runtime, s3, f"s3://{bucket}/", window=3600)
    first = watch_bucket(runtime, watch)
    assert first.stored == 3
    assert read_cursor(runtime, watch) == Cursor(
        "", {digest(asterisk_name(n)) for n in (40, 41, 42)}
    )
    # An hour and more on, no recording exported now can sort before them: the marker passes
    # them all, and the recent set empties.
    runtime.clock = FixedClock(datetime.now(UTC) + timedelta(seconds=3601))
    later = watch_bucket(runtime, watch)
    assert (later.stored, later.repeated) == (0, 0)
    assert read_cursor(runtime, watch) == Cursor(asterisk_name(42), set())
    put(client, bucket, asterisk_name(43), wav(43))
    last = watch_bucket(runtime, watch)
    assert (last.stored, last.repeated) == (1, 0)
    assert len(stored_calls(runtime)) == 4


@pytest.mark.parametrize("backend", ["postgresql-s3"], indirect=True)
def test_a_kill_between_a_commit_and_the_cursors_save_stores_nothing_twice(
    runtime: Runtime, s3: S3Endpoint, source: tuple[Minio, str]
) -> None:
    client, bucket = source
    put(client, bucket, CALL_B, wav(2))
    put(client, bucket, CALL_A, wav(1))
    watch = bucket_watch(runtime, s3, f"s3://{bucket}/calls/", window=HOURS)
    assert watch_bucket(runtime, watch).stored == 2
    # As if killed after B's commit, before the cursor said so.
    save_cursor(runtime, watch, Cursor("", {digest(CALL_A)}))
    again = watch_bucket(runtime, watch)
    assert (again.stored, again.repeated) == (0, 1)
    assert read_cursor(runtime, watch) == Cursor("", {digest(CALL_A), digest(CALL_B)})
    assert sorted(call.raw for call in stored_calls(runtime)) == sorted([wav(1), wav(2)])


def test_an_unreachable_bucket_shows_failing_until_a_pass_reads_it(
    runtime: Runtime, s3: S3Endpoint, source: tuple[Minio, str]
) -> None:
    client, bucket = source
    put(client, bucket, asterisk_name(50), wav(50))
    url = f"s3://{bucket}/"

    def state() -> tuple[str, SourceReport]:
        with runtime.session() as session:
            (found,) = report(session, runtime.clock.now())
        return connector_out(found).state, found

    assert watch_bucket(runtime, bucket_watch(runtime, s3, url)).stored == 1
    assert state()[0] == "flowing"
    with BreakingRelay(s3.host, budget=0) as relay:
        down = watch_bucket(runtime, bucket_watch(runtime, s3, url, relay.address))
    assert down.error is not None
    shown, found = state()
    assert shown == "failing"
    assert found.last_error_at is not None
    assert found.last_run_at is not None
    assert found.last_error_at > found.last_run_at
    assert watch_bucket(runtime, bucket_watch(runtime, s3, url)).error is None
    assert state()[0] == "flowing"


def listed_at(key: str, age: int) -> Listed:
    return Listed(key, key, datetime.now(UTC) - timedelta(seconds=age))


@pytest.mark.fast
def test_a_full_recent_set_moves_the_marker_past_done_recordings_only() -> None:
    progress = Progress(Cursor(), datetime.now(UTC) - timedelta(hours=1), room=2)
    old, young = (
        [listed_at(f"{n}.wav", 7200) for n in (1, 2)],
        [listed_at(f"{n}.wav", 60) for n in (3, 4, 5, 6)],
    )
    for item in old + young[:2]:
        progress.dealt(item)
    # The old ones are passed; the young ones wait in the recent set, which has room for them.
    assert progress.cursor == Cursor("2.wav", {digest("3.wav"), digest("4.wav")})
    assert progress.forced == 0
    for item in young[2:]:
        progress.dealt(item)
    # No room for more: the marker is moved on past the first done ones, young as they are,
    # and never further than the last dealt with.
    assert progress.cursor == Cursor("4.wav", {digest("5.wav"), digest("6.wav")})
    assert progress.forced == 2


@pytest.mark.fast
def test_a_cursor_kept_before_the_recent_set_opens_as_its_marker() -> None:
    keyring = generate_key_material().keyring
    settings = replace(
        Settings(),
        watch_s3_endpoint="http://127.0.0.1:9000",
        watch_s3_access_key="reader",
        watch_s3_secret_key="reader-secret",
    )
    watch = BucketWatch.of(settings, "s3://export/calls/")
    # As the marker alone was sealed: its key under a data key of its own.
    context = f"connector-cursor:{watch.source}"
    data_key = new_data_key()
    kek_id, wrapped = keyring.wrap(data_key, context)
    position = {
        "kek_id": kek_id,
        "wrapped_key": base64.b64encode(wrapped).decode(),
        "start_after": base64.b64encode(encrypt_field(data_key, CALL_B, context)).decode(),
    }
    assert opened_cursor(keyring, watch, position) == Cursor(CALL_B, set())
    kept = Cursor(CALL_A, {digest(CALL_B)})
    assert opened_cursor(keyring, watch, sealed_cursor(keyring, watch, kept)) == kept
    assert opened_cursor(keyring, watch, {}) == Cursor()
