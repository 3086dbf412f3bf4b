"""The integrity sweep finds orphans, missing and corrupt objects; repair removes old orphans."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from archive.clock import FixedClock
from archive.contacts.models import Contact, ObjectRole
from archive.contacts.objects import write_object
from archive.errors import StorageError
from archive.integrity.check import UnfinishedUploads, check
from archive.runtime import Runtime
from archive.testing.builders import ingest_call, ingest_email
from archive.testing.contents import count

MIB = 1 << 20


@pytest.fixture
def clock() -> FixedClock:
    # Stores stamp objects with the real time, so this clock starts there.
    return FixedClock(datetime.now(UTC))


@pytest.fixture
def timed(runtime: Runtime, clock: FixedClock) -> Runtime:
    runtime.clock = clock
    return runtime


def orphan(runtime: Runtime) -> str:
    """What an ingest leaves when its database commit never happens."""
    obj = write_object(
        runtime,
        contact_id=uuid.uuid4(),
        role=ObjectRole.ORIGINAL,
        media_type="audio/wav",
        chunks=[b"RIFF" + b"\0" * 5000],
        limit=1 << 20,
    )
    return obj.storage_key


def test_a_healthy_archive_checks_clean(timed: Runtime) -> None:
    ingest_call(timed)
    ingest_email(timed)
    report = check(timed)
    assert report.ok
    assert report.objects_checked == 2
    assert report.findings == []


def test_orphans_are_reported_and_removed_only_after_the_grace_period(
    timed: Runtime, clock: FixedClock
) -> None:
    ingest_call(timed)
    key = orphan(timed)

    young = check(timed, repair=True)
    assert [(f.kind, f.storage_key) for f in young.findings] == [("orphan", key)]
    assert young.orphans_too_young == 1
    assert young.ok  # an ingest in progress is not a problem
    assert timed.store.exists(key)  # an ingest may still be about to commit it

    clock.advance(timedelta(seconds=timed.settings.orphan_grace_seconds + 60))
    old = check(timed, repair=True)
    assert old.orphans_removed == 1
    assert not timed.store.exists(key)
    assert check(timed).ok


def test_a_stalled_upload_is_kept_within_the_grace_period_then_aborted(
    timed: Runtime, clock: FixedClock
) -> None:
    stalled, resume = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def body() -> Iterator[bytes]:
        # Past the first 8 MiB part, so an S3 store holds a multipart upload by now.
        for _ in range(9):
            yield bytes(MIB)
        stalled.set()
        resume.wait(timeout=60)
        yield bytes(MIB)

    def upload() -> None:
        try:
            write_object(
                timed,
                contact_id=uuid.uuid4(),
                role=ObjectRole.ORIGINAL,
                media_type="audio/wav",
                chunks=body(),
                limit=1 << 30,
            )
        except BaseException as error:  # collected for the assertions below
            failures.append(error)

    uploader = threading.Thread(target=upload)
    uploader.start()
    try:
        assert stalled.wait(timeout=60)
        young = check(timed, repair=True)
        clock.advance(timedelta(seconds=timed.settings.orphan_grace_seconds + 60))
        old = check(timed, repair=True)
    finally:
        resume.set()
        uploader.join()

    assert young.uploads == UnfinishedUploads(found=1, stale=0, removed=0)
    assert young.ok  # an upload in progress is not a problem
    assert old.uploads == UnfinishedUploads(found=1, stale=1, removed=1)
    assert old.ok
    # An upload idle for that long has lost its client; aborted, it can only fail.
    assert [type(error) for error in failures] == [StorageError]
    assert list(timed.store.unfinished_uploads()) == []
    assert list(timed.store.list()) == []


def test_missing_and_corrupt_objects_are_reported(timed: Runtime) -> None:
    missing = ingest_call(timed, "speech.mp3").contact
    corrupt = ingest_call(timed, "speech.flac").contact
    with timed.session() as session:
        gone = session.get(Contact, missing.id).objects[0]  # type: ignore[union-attr]
        bad = session.get(Contact, corrupt.id).objects[0]  # type: ignore[union-attr]
        gone_key, bad_key, bad_size = gone.storage_key, bad.storage_key, bad.stored_size
    timed.store.delete_many([gone_key])
    stored = b"".join(timed.store.iter_chunks(bad_key))
    flipped = bytearray(stored)
    flipped[len(flipped) // 2] ^= 0x01
    timed.store.delete_many([bad_key])
    timed.store.put(bad_key, [bytes(flipped)])
    assert len(flipped) == bad_size

    report = check(timed)
    kinds = {f.storage_key: f.kind for f in report.findings}
    assert kinds == {gone_key: "missing", bad_key: "unreadable"}
    assert not report.ok
    quick = check(timed, deep=False)
    assert {f.storage_key: f.kind for f in quick.findings} == {gone_key: "missing"}


def test_a_failed_commit_leaves_no_object_behind(
    timed: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(self: Session) -> None:
        raise OperationalError("COMMIT", {}, Exception("database went away"))

    monkeypatch.setattr(Session, "commit", fail)
    with pytest.raises(OperationalError):
        ingest_call(timed)
    monkeypatch.undo()
    assert count(timed, Contact) == 0
    assert list(timed.store.list()) == []
