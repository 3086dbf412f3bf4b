"""One pass over a bucket's prefix: the recordings after the start-after marker, in key order,
each stored (or refused) unless the cursor's recent set says it was, the cursor saved after
each one is committed.

The marker passes a recording once it and every one before it is dealt with and it is older
than the window; until then it stays in the recent set, listed again at each pass but not
fetched. A recording that cannot be stored now (the archive's store or database down, its
sidecar not there yet) ends the pass before it, so the next pass starts there; one the
archive will never take is counted refused and passed. A kill between a recording's commit
and the cursor's save leaves it out of the recent set: the next pass finds it stored
(repeated), never skips it. A pass that could not read the bucket reports an error and no
finished pass, so the connector shows as failing.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime

import structlog
from minio import Minio

from archive.audit import Actor
from archive.connectors.activity import (
    Kind,
    Outcome,
    read_position,
    record,
    record_error,
    record_pass,
    save_position,
)
from archive.connectors.bucket import (
    MAX_RECENT,
    BucketWatch,
    Cursor,
    Listed,
    digest,
    is_missing,
    is_unreadable,
    listed,
    object_chunks,
    opened_cursor,
    reference,
    sealed_cursor,
    sidecar_of,
)
from archive.connectors.recordings import describe, read_sidecar
from archive.connectors.use_cases.recordings import (
    PassReport,
    outcome_of,
    store,
    stored_outcome,
    watcher,
)
from archive.errors import InvalidInput
from archive.runtime import Runtime

log = structlog.get_logger(__name__)


class Waiting(Exception):
    """The recording's sidecar is not there yet: the pass stops before it."""


def read_cursor(runtime: Runtime, watch: BucketWatch) -> Cursor:
    """Where the next pass starts."""
    with runtime.session() as session:
        position = read_position(session, Kind.BUCKET, watch.source)
    return opened_cursor(runtime.keys.keyring, watch, position or {})


def start_after(runtime: Runtime, watch: BucketWatch) -> str:
    """The key the next pass starts after ("" from the beginning)."""
    return read_cursor(runtime, watch).start_after


def save_cursor(runtime: Runtime, watch: BucketWatch, cursor: Cursor) -> None:
    sealed = sealed_cursor(runtime.keys.keyring, watch, cursor)
    with runtime.session() as session:
        save_position(session, Kind.BUCKET, watch.source, sealed, runtime.clock.now())
        session.commit()


class Progress:
    """The cursor as a pass moves it. `behind`: the recordings listed after the marker, in key
    order; the pass stops at the first it cannot deal with, so every one of them is dealt
    with, and the marker may pass the first while it is older than the window."""

    def __init__(self, cursor: Cursor, settled_before: datetime, room: int = MAX_RECENT) -> None:
        self.cursor = cursor
        self.room = room
        self.settled_before = settled_before
        self.behind: deque[Listed] = deque()
        self.listed: set[bytes] = set()
        self.changed = False
        self.forced = 0

    def is_done(self, item: Listed) -> bool:
        self.listed.add(digest(item.key))
        return digest(item.key) in self.cursor.recent

    def dealt(self, item: Listed) -> None:
        if digest(item.key) not in self.cursor.recent:
            self.cursor.recent.add(digest(item.key))
            self.changed = True
        self.behind.append(item)
        while self.behind:
            first = self.behind[0]
            # S3 always gives a LastModified; without one, keys are taken to only grow.
            settled = first.modified is None or first.modified <= self.settled_before
            full = len(self.cursor.recent) > self.room
            if not (settled or full):
                break
            if not settled:
                # More recordings within the window than the cursor keeps: this one is done,
                # but one exported later under a smaller key would now be missed, so the
                # pass warns.
                self.forced += 1
            self.behind.popleft()
            self.cursor.recent.discard(digest(first.key))
            self.cursor.start_after = first.key
            self.changed = True

    def listing_ended(self) -> None:
        """Listed to the end: a digest in the recent set not listed is of an object since
        removed from the bucket, and goes."""
        if not self.cursor.recent <= self.listed:
            self.cursor.recent &= self.listed
            self.changed = True


def watch_bucket(
    runtime: Runtime, watch: BucketWatch, actor: Actor | None = None, *, limit: int | None = None
) -> PassReport:
    """One pass, of at most `limit` recordings fetched (None: to the end of the listing)."""
    report = PassReport()
    actor = actor or watcher(Kind.BUCKET, watch.source)
    client = watch.client()
    taken = 0
    exhausted = False
    progress: Progress | None = None
    try:
        progress = Progress(read_cursor(runtime, watch), runtime.clock.now() - watch.window)
        for item in listed(client, watch, progress.cursor.start_after):
            if progress.is_done(item):
                progress.dealt(item)
                continue
            if limit is not None and taken >= limit:
                break
            if not _take(runtime, watch, client, actor, item, report):
                break
            taken += 1
            progress.dealt(item)
            save_cursor(runtime, watch, progress.cursor)
            progress.changed = False
        else:
            exhausted = True
            progress.listing_ended()
        if progress.changed:
            save_cursor(runtime, watch, progress.cursor)
    except Exception as error:
        # The bucket could not be listed (or the cursor read or saved): the next pass goes on
        # from the cursor saved after the last recording dealt with. No finished pass is
        # recorded, so the error stays the last thing the source reported.
        _, reason = outcome_of(error)
        report.error = reason
        log.warning("bucket pass stopped", bucket=watch.source, reason=reason)
        record_error(runtime, Kind.BUCKET, watch.source, reason)
        return report
    finally:
        if progress is not None and progress.forced:
            log.warning(
                "more recordings within the window than the cursor keeps; the marker passed "
                "some younger than the window",
                bucket=watch.source,
                passed=progress.forced,
                kept=progress.room,
            )
    # Past the end of the listing nothing waits; stopped early, the rest was not counted.
    record_pass(runtime, Kind.BUCKET, watch.source, 0 if exhausted else None)
    return report


def _take(
    runtime: Runtime,
    watch: BucketWatch,
    client: Minio,
    actor: Actor,
    item: Listed,
    report: PassReport,
) -> bool:
    """Deal with one recording; False when the pass must stop before it."""
    try:
        sidecar: dict[str, str] = {}
        if watch.sidecar != "none":
            data = sidecar_of(client, watch, item.key)
            if data is None:
                raise Waiting(item.key)
            sidecar = read_sidecar(data, watch.sidecar)
        named = watch.pattern.read(item.name)
        if named is None and watch.sidecar == "none":
            raise InvalidInput(f"the name is not of the pattern {watch.pattern.text}")
        call = describe(item.name, item.relative, named, sidecar, watch.local, "bucket")
        result = store(runtime, actor, call, object_chunks(client, watch, item.key))
        outcome = stored_outcome(result)
        reason = None
    except Waiting:
        report.waiting += 1
        return False
    except Exception as error:
        if is_missing(error):
            log.info("listed recording gone before it was read", key=reference(item.key))
            return True
        outcome, reason = outcome_of(error)
        if is_unreadable(error):
            outcome, reason = Outcome.REFUSED, "in a storage class that cannot be read directly"
    report.count(outcome)
    # Neither the count nor the log names the key, which may hold a caller's number.
    record(runtime, Kind.BUCKET, watch.source, outcome, reason)
    if outcome is Outcome.DEFERRED:
        log.warning("recording not stored now; the pass stops before it", key=reference(item.key))
        return False
    if outcome is Outcome.REFUSED:
        report.refused_names.append((item.key, reason or ""))
        log.warning("recording refused", key=reference(item.key), reason=reason)
    return True
