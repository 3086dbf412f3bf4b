"""What connectors report: counts by the hour and outcome, the latest state of each source,
cursors that move in the caller's transaction, and counts from many threads at once."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from archive.clock import FixedClock
from archive.connectors.activity import (
    HOURS,
    KEEP_DAYS,
    Kind,
    Outcome,
    Tally,
    clip_source,
    prune_hours,
    read_position,
    record,
    record_error,
    record_pass,
    report,
    save_position,
)
from archive.connectors.models import MAX_SOURCE
from archive.runtime import Runtime

pytestmark = pytest.mark.usefixtures("on_test_clock")


def test_outcomes_are_counted_by_the_hour_and_the_status_follows_them(
    runtime: Runtime, clock: FixedClock
) -> None:
    record(runtime, Kind.IMAP, "INBOX", Outcome.STORED)
    clock.advance(timedelta(hours=2))
    record(runtime, Kind.IMAP, "INBOX", Outcome.REPEATED)
    record(runtime, Kind.IMAP, "INBOX", Outcome.DEFERRED, "the store is unavailable")
    record(runtime, Kind.IMAP, "INBOX", Outcome.REFUSED, "not an e-mail")
    with runtime.session() as session:
        (inbox,) = report(session, clock.now())
    assert (inbox.stored, inbox.repeated, inbox.deferred, inbox.refused) == (1, 1, 1, 1)
    assert len(inbox.hours) == HOURS
    assert [count for _, count in inbox.hours[-3:]] == [1, 0, 1]
    assert inbox.last_hour == 1
    assert inbox.last_message_at == clock.now()
    assert (inbox.last_error, inbox.failures_in_a_row) == ("not an e-mail", 2)
    record(runtime, Kind.IMAP, "INBOX", Outcome.STORED)
    with runtime.session() as session:
        (inbox,) = report(session, clock.now())
    assert inbox.failures_in_a_row == 0
    assert inbox.last_error == "not an e-mail"  # the last error stays to be read


def test_hours_older_than_the_window_are_not_reported(runtime: Runtime, clock: FixedClock) -> None:
    record(runtime, Kind.FOLDER, "/recordings", Outcome.STORED)
    clock.advance(timedelta(hours=HOURS))
    with runtime.session() as session:
        (folder,) = report(session, clock.now())
    assert folder.stored == 0
    assert folder.last_message_at is not None


def test_passes_and_errors_set_the_backlog_and_the_last_error(
    runtime: Runtime, clock: FixedClock
) -> None:
    record_pass(runtime, Kind.BUCKET, "s3://exports/calls/", 12)
    record_error(runtime, Kind.BUCKET, "s3://exports/calls/", "AccessDenied")
    with runtime.session() as session:
        (bucket,) = report(session, clock.now())
    assert (bucket.backlog, bucket.backlog_at, bucket.last_run_at) == (12, clock.now(), clock.now())
    assert bucket.last_error == "AccessDenied"
    assert bucket.last_message_at is None


def test_a_cursor_moves_only_with_its_transaction(runtime: Runtime, clock: FixedClock) -> None:
    with runtime.session() as session:
        assert read_position(session, Kind.IMAP, "INBOX") is None
        save_position(session, Kind.IMAP, "INBOX", {"uidvalidity": 7, "uid": 3}, clock.now())
        # Not committed: a crash here reads the mailbox again from where it was.
    with runtime.session() as session:
        assert read_position(session, Kind.IMAP, "INBOX") is None
        save_position(session, Kind.IMAP, "INBOX", {"uidvalidity": 7, "uid": 3}, clock.now())
        session.commit()
        save_position(session, Kind.IMAP, "INBOX", {"uidvalidity": 7, "uid": 9}, clock.now())
        session.commit()
    with runtime.session() as session:
        assert read_position(session, Kind.IMAP, "INBOX") == {"uidvalidity": 7, "uid": 9}


def test_counts_from_many_threads_at_once_are_all_kept(runtime: Runtime, clock: FixedClock) -> None:
    def count(number: int) -> None:
        outcome = Outcome.STORED if number % 2 else Outcome.REPEATED
        record(runtime, Kind.SMTP, "0.0.0.0:25", outcome)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(count, range(200)))
    with runtime.session() as session:
        (endpoint,) = report(session, clock.now())
    assert (endpoint.stored, endpoint.repeated) == (100, 100)


def test_a_tally_writes_its_counts_together_and_carries_failures_across_flushes(
    runtime: Runtime, clock: FixedClock
) -> None:
    tally = Tally(runtime)
    for _ in range(40):
        tally.count(Kind.SMTP, "0.0.0.0:25", Outcome.STORED)
    tally.count(Kind.SMTP, "0.0.0.0:25", Outcome.DEFERRED, "451 4.3.0")
    with runtime.session() as session:
        assert report(session, clock.now()) == []  # nothing written before the flush
    tally.flush()
    clock.advance(timedelta(hours=1))
    tally.count(Kind.SMTP, "0.0.0.0:25", Outcome.REFUSED, "554 5.6.0")
    tally.flush()
    with runtime.session() as session:
        (endpoint,) = report(session, clock.now())
    assert (endpoint.stored, endpoint.deferred, endpoint.refused) == (40, 1, 1)
    assert [count for _, count in endpoint.hours[-2:]] == [40, 0]
    assert endpoint.failures_in_a_row == 2  # one before the flush, one after
    assert endpoint.last_error == "554 5.6.0"
    tally.count(Kind.SMTP, "0.0.0.0:25", Outcome.REFUSED, "554 5.6.0")
    tally.count(Kind.SMTP, "0.0.0.0:25", Outcome.REPEATED)
    tally.count(Kind.SMTP, "0.0.0.0:25", Outcome.DEFERRED, "451 4.3.0")
    tally.flush()
    with runtime.session() as session:
        (endpoint,) = report(session, clock.now())
    assert endpoint.failures_in_a_row == 1  # the one after the repeated message
    assert endpoint.last_message_at == clock.now()


def test_a_started_tally_writes_on_its_own_and_when_stopped(
    runtime: Runtime, clock: FixedClock
) -> None:
    tally = Tally(runtime, every=0.05).start()
    tally.count(Kind.FOLDER, "/recordings", Outcome.STORED)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with runtime.session() as session:
            if report(session, clock.now()):
                break
        time.sleep(0.05)
    tally.count(Kind.FOLDER, "/recordings", Outcome.STORED)
    tally.stop()
    with runtime.session() as session:
        (folder,) = report(session, clock.now())
    assert folder.stored == 2


def test_two_long_sources_that_begin_alike_keep_cursors_of_their_own(
    runtime: Runtime, clock: FixedClock
) -> None:
    common = "s3://exports/" + "calls/" * 90
    first, second = common + "helsinki/", common + "tampere/"
    with runtime.session() as session:
        save_position(session, Kind.BUCKET, first, {"after": "a"}, clock.now())
        save_position(session, Kind.BUCKET, second, {"after": "b"}, clock.now())
        session.commit()
        assert read_position(session, Kind.BUCKET, first) == {"after": "a"}
        assert read_position(session, Kind.BUCKET, second) == {"after": "b"}
    assert len(clip_source(first)) == MAX_SOURCE
    assert clip_source("INBOX") == "INBOX"


def test_hourly_counts_older_than_a_month_are_pruned(runtime: Runtime, clock: FixedClock) -> None:
    record(runtime, Kind.SMTP, "0.0.0.0:25", Outcome.STORED)
    clock.advance(timedelta(days=KEEP_DAYS, hours=1))
    record(runtime, Kind.SMTP, "0.0.0.0:25", Outcome.STORED)
    assert prune_hours(runtime) == 1
    assert prune_hours(runtime) == 0
    with runtime.session() as session:
        (endpoint,) = report(session, clock.now())
    assert endpoint.stored == 1
