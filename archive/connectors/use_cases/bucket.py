"""One pass over a bucket's prefix: the recordings after the start-after marker, in key order,
each stored (or refused), the marker moved past it only once that is committed.

A recording that cannot be stored now (the archive's store or database down, the bucket not
answering) ends the pass with the marker before it, so the next pass starts there; one the
archive will never take is counted refused and passed. A kill at any point leaves the marker
at or before the last recording committed: the next pass finds that one stored, never skips.
"""

from __future__ import annotations

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
    BucketWatch,
    Listed,
    is_missing,
    is_unreadable,
    listed,
    object_chunks,
    opened_marker,
    reference,
    sealed_marker,
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


def start_after(runtime: Runtime, watch: BucketWatch) -> str:
    """The key the next pass starts after ("" from the beginning)."""
    with runtime.session() as session:
        position = read_position(session, Kind.BUCKET, watch.source)
    return opened_marker(runtime.keys.keyring, watch, position or {})


def watch_bucket(
    runtime: Runtime, watch: BucketWatch, actor: Actor | None = None, *, limit: int | None = None
) -> PassReport:
    """One pass, of at most `limit` recordings (None: to the end of the listing)."""
    report = PassReport()
    actor = actor or watcher(Kind.BUCKET, watch.source)
    client = watch.client()
    dealt = 0
    exhausted = False
    try:
        after = start_after(runtime, watch)
        for item in listed(client, watch, after):
            if limit is not None and dealt >= limit:
                break
            if not _take(runtime, watch, client, actor, item, report):
                break
            dealt += 1
        else:
            exhausted = True
    except Exception as error:
        # The listing failed part way (or the marker could not be read or saved): the next
        # pass goes on from the marker, which names the last recording dealt with.
        _, reason = outcome_of(error)
        report.error = reason
        log.warning("bucket pass stopped", bucket=watch.source, reason=reason)
        record_error(runtime, Kind.BUCKET, watch.source, reason)
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
            _move_marker(runtime, watch, item.key)
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
    _move_marker(runtime, watch, item.key)
    return True


def _move_marker(runtime: Runtime, watch: BucketWatch, key: str) -> None:
    marker = sealed_marker(runtime.keys.keyring, watch, key)
    with runtime.session() as session:
        save_position(session, Kind.BUCKET, watch.source, marker, runtime.clock.now())
        session.commit()
