"""One pass over a recording folder: every complete recording stored, then moved or deleted.

Crash-safe by order: a recording is moved or deleted only after its contact is committed. A
kill before the commit leaves the recording (and at most an orphan object the integrity sweep
removes); a kill between the commit and the move leaves it too, and the next pass stores it
again, finds it stored (the same bytes under the same identity) and moves it: nothing is lost,
nothing stored twice. Processes watching one folder at once each take a recording under a
lock (`archive.connectors.folder.taken`), so only one reads it at a time.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog

from archive.audit import Actor
from archive.connectors.activity import Kind, Outcome, record, record_error, record_pass
from archive.connectors.folder import (
    FolderWatch,
    Found,
    changed,
    chunks,
    finish,
    read_sidecar_bytes,
    refuse,
    scan,
    taken,
)
from archive.connectors.recordings import (
    MAX_SIDECAR_BYTES,
    Call,
    describe,
    read_sidecar,
)
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


def watch_folder(
    runtime: Runtime,
    watch: FolderWatch,
    actor: Actor | None = None,
    *,
    now: Callable[[], float] = time.time,
) -> PassReport:
    """One pass: each complete recording stored, found stored, refused or left for later.
    `now`: the wall clock files' times are compared with (the archive's clock may be a
    test's)."""
    report = PassReport()
    actor = actor or watcher(Kind.FOLDER, watch.source)
    if not watch.root.is_dir():
        report.error = f"{watch.root} is not a folder that can be read"
        record_error(runtime, Kind.FOLDER, watch.source, report.error)
        return report
    try:
        ready, report.waiting, unreadable = scan(watch, now)
    except OSError as error:
        report.error = f"{watch.root} could not be read: {error.strerror or error}"
        record_error(runtime, Kind.FOLDER, watch.source, report.error)
        return report
    for found in ready:
        _take(runtime, watch, actor, found, report)
    record_pass(runtime, Kind.FOLDER, watch.source, report.waiting + report.deferred)
    if unreadable:
        # After the pass, so the source shows failing: what lies in those subfolders is
        # neither archived nor counted until the archive may read them. Not their names:
        # a subfolder may be named after a caller.
        reason = unreadable[0].strerror or type(unreadable[0]).__name__
        report.error = f"{len(unreadable)} subfolder(s) could not be read: {reason}"
        log.warning("recording subfolders not read", count=len(unreadable), reason=reason)
        record_error(runtime, Kind.FOLDER, watch.source, report.error)
    return report


def _take(
    runtime: Runtime, watch: FolderWatch, actor: Actor, found: Found, report: PassReport
) -> None:
    with taken(found) as file:
        if file is None:
            report.waiting += 1  # another process has it, or it changed since the scan
            return
        try:
            result = store(runtime, actor, _call(watch, found), chunks(file, found))
        except Exception as error:
            if changed(found):
                report.waiting += 1  # still being written after all: taken when complete
                return
            outcome, reason = outcome_of(error)
            # Neither the count nor the log names the file, whose name may hold a caller's
            # number; a refused one is found in the refused folder, beside its note.
            if outcome is Outcome.REFUSED:
                report.refused_names.append((found.relative, reason))
                _refuse(watch, found, reason)
            else:
                log.warning("recording not stored now; tried again at the next pass", reason=reason)
            report.count(outcome)
            record(runtime, Kind.FOLDER, watch.source, outcome, reason)
            return
        outcome = stored_outcome(result)
        report.count(outcome)
        try:
            finish(watch, found)
        except OSError as error:
            # Stored all the same; the next pass finds it stored and tries the move again.
            log.error("archived recording not moved", error=error.strerror or type(error).__name__)
        record(runtime, Kind.FOLDER, watch.source, outcome)


def _call(watch: FolderWatch, found: Found) -> Call:
    name = found.path.name
    named = watch.pattern.read(name)
    sidecar = {}
    if watch.sidecar != "none":
        sidecar = read_sidecar(read_sidecar_bytes(found, MAX_SIDECAR_BYTES), watch.sidecar)
    elif named is None:
        raise InvalidInput(f"the name is not of the pattern {watch.pattern.text}")
    return describe(name, found.relative, named, sidecar, watch.local, "folder")


def _refuse(watch: FolderWatch, found: Found, reason: str) -> None:
    try:
        where = refuse(watch, found, reason)
    except OSError as error:
        log.error("refused recording not moved", error=error.strerror or type(error).__name__)
        return
    log.warning("recording refused", folder=str(where.parent), reason=reason)
