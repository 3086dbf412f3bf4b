"""The integrity sweep: stored objects against the database, as small checks behind `check()`.

Finds orphans (objects no row points at: left by an ingest whose commit failed, or by contacts
ingested after the backup a database was restored from), missing objects, objects of the wrong
size, objects whose decrypted content no longer matches its digest, and unfinished uploads
(left by a killed process, or a store that failed mid-upload).

An object missing because its contact was deleted after the backup the database was restored
from is no corruption: the deletion journal in the store names the contact, and the finding
says so (`journalled`); `archive restore` and every sweep delete such contacts again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from archive.audit.heads import public_keys, signature_problem
from archive.contacts.models import Contact, ContactState, ContentObject
from archive.contacts.objects import read_object
from archive.errors import ArchiveError, ContentMissing, IntegrityFailure, NotFound
from archive.observability import metrics
from archive.privacy.models import BundleState, ExportBundle
from archive.runtime import Runtime
from archive.storage.base import ObjectInfo
from archive.storage.journal import journal_of

#: Findings that are no problem: what the deletion journal explains.
JOURNALLED = "journalled"


@dataclass
class Finding:
    kind: str  # orphan | missing | journalled | size-mismatch | digest-mismatch | unreadable
    storage_key: str
    object_id: str | None = None
    detail: str = ""


@dataclass
class UnfinishedUploads:
    """Writes the store began and never completed: temporary files, S3 multipart uploads."""

    found: int = 0
    stale: int = 0  # idle for longer than the grace period
    removed: int = 0

    @property
    def pending(self) -> int:
        """Stale ones still in the store."""
        return self.stale - self.removed


@dataclass
class CheckReport:
    objects_checked: int = 0
    stored_objects: int = 0
    findings: list[Finding] = field(default_factory=list)
    orphans_removed: int = 0
    orphans_too_young: int = 0
    uploads: UnfinishedUploads = field(default_factory=UnfinishedUploads)

    @property
    def ok(self) -> bool:
        """No problem left: young orphans and young unfinished uploads are not one (their
        ingest may still be running)."""
        problems = [f for f in self.findings if f.kind not in ("orphan", JOURNALLED)]
        return not problems and not self.orphans_pending and not self.uploads.pending

    @property
    def orphans_pending(self) -> int:
        """Orphans past the grace period that are still in the store."""
        orphans = sum(1 for f in self.findings if f.kind == "orphan")
        return orphans - self.orphans_removed - self.orphans_too_young

    def count(self, kind: str) -> int:
        return sum(1 for f in self.findings if f.kind == kind)


def check(
    runtime: Runtime,
    *,
    repair: bool = False,
    deep: bool = True,
    progress: Callable[[int], None] | None = None,
) -> CheckReport:
    """Compare store and database. With `repair`, orphans and unfinished uploads older than
    the grace period go."""
    report = CheckReport()
    stored = {info.key: info for info in runtime.store.list()}
    report.stored_objects = len(stored)
    known: set[str] = set()
    for obj in _live_objects(runtime):
        known.add(obj.storage_key)
        report.objects_checked += 1
        finding = _check_object(runtime, obj, stored.get(obj.storage_key), deep=deep)
        if finding is not None:
            report.findings.append(finding)
        if progress is not None:
            progress(report.objects_checked)
    _explain_missing(runtime, report)
    _orphans(runtime, stored, known, report, repair=repair)
    _unfinished(runtime, report, repair=repair)
    metrics.integrity_checked(report.ok, [finding.kind for finding in report.findings])
    return report


def _explain_missing(runtime: Runtime, report: CheckReport) -> None:
    """Missing objects of contacts the deletion journal names were deleted after the backup
    the database was restored from: explained, not corrupt."""
    missing = [f for f in report.findings if f.kind == "missing" and f.object_id is not None]
    if not missing:
        return
    journal = journal_of(runtime.store)
    keys = public_keys(runtime.keys)
    deleted: set[str] = set()
    for name in journal.names():
        try:
            entry = journal.read(name)
            # Unsigned, it could hide the loss of any object it names: it explains nothing.
            problem = signature_problem(entry.key_id, entry.signature, entry.document(), keys)
            if problem is not None:
                raise IntegrityFailure(f"deletion journal entry: {problem}")
            deleted.update(str(contact_id) for contact_id in entry.contacts)
        except IntegrityFailure as error:
            report.findings.append(Finding("unreadable", name, None, error.detail))
    with runtime.session() as session:
        owners = {
            str(object_id): str(contact_id)
            for object_id, contact_id in session.execute(
                select(ContentObject.id, ContentObject.contact_id).where(
                    ContentObject.storage_key.in_([f.storage_key for f in missing])
                )
            )
        }
    for finding in missing:
        if owners.get(str(finding.object_id)) in deleted:
            finding.kind = JOURNALLED
            finding.detail = (
                "its contact was deleted after the backup this database was restored from "
                "(deletion journal); the next sweep deletes it again"
            )


def unfinished_uploads(runtime: Runtime, *, repair: bool) -> UnfinishedUploads:
    """Count the store's unfinished uploads; with `repair`, abort those idle past the grace.

    A younger one is left alone: its upload may still be running.
    """
    cutoff = _grace_cutoff(runtime)
    found = list(runtime.store.unfinished_uploads())
    stale = [upload for upload in found if upload.last_active <= cutoff]
    counts = UnfinishedUploads(found=len(found), stale=len(stale))
    if repair and stale:
        runtime.store.abort_uploads(stale)
        counts.removed = len(stale)
    return counts


def _grace_cutoff(runtime: Runtime) -> datetime:
    """Anything last touched after this may belong to an ingest that is still running."""
    return runtime.clock.now() - timedelta(seconds=runtime.settings.orphan_grace_seconds)


def _live_objects(runtime: Runtime, batch: int = 1000) -> Iterator[ContentObject]:
    """Objects of contacts that are not deleted, in id order, a batch at a time."""
    last = None
    while True:
        with runtime.session() as session:
            query = (
                select(ContentObject)
                .join(Contact, Contact.id == ContentObject.contact_id)
                .where(Contact.state != ContactState.DELETED)
                .order_by(ContentObject.id)
                .limit(batch)
            )
            if last is not None:
                query = query.where(ContentObject.id > last)
            rows = session.scalars(query).all()
            session.expunge_all()
        if not rows:
            return
        yield from rows
        last = rows[-1].id


def _check_object(
    runtime: Runtime, obj: ContentObject, info: ObjectInfo | None, *, deep: bool
) -> Finding | None:
    key, object_id = obj.storage_key, str(obj.id)
    if info is None:
        # The store was listed before the database was read: an ingest that committed in
        # between has its object, just not in that listing.
        try:
            info = runtime.store.stat(key)
        except NotFound:
            return Finding("missing", key, object_id, "the store has no object under this key")
    if info.size != obj.stored_size:
        detail = f"stored {info.size} bytes, recorded {obj.stored_size}"
        return Finding("size-mismatch", key, object_id, detail)
    return _check_content(runtime, obj) if deep else None


def _check_content(runtime: Runtime, obj: ContentObject) -> Finding | None:
    """Decrypt the whole object (each segment authenticates) and compare the plaintext digest."""
    key, object_id = obj.storage_key, str(obj.id)
    digest = hashlib.sha256()
    try:
        for chunk in read_object(runtime, obj):
            digest.update(chunk)
    except IntegrityFailure as error:
        return Finding("unreadable", key, object_id, error.detail)
    except ContentMissing:
        return Finding("missing", key, object_id, "the object vanished during the check")
    if digest.digest() != obj.sha256:
        return Finding("digest-mismatch", key, object_id, "content does not match its digest")
    return None


def _orphans(
    runtime: Runtime,
    stored: dict[str, ObjectInfo],
    known: set[str],
    report: CheckReport,
    *,
    repair: bool,
) -> None:
    # Objects of deleted contacts still referenced by rows are not orphans of ingest; they are
    # the expiry sweep's business, so only keys no row mentions at all count here. Export
    # bundles live in the same store; a destroyed one's object is an orphan like any other.
    with runtime.session() as session:
        referenced = set(session.scalars(select(ContentObject.storage_key)))
        referenced.update(
            key
            for key in session.scalars(
                select(ExportBundle.storage_key).where(ExportBundle.state != BundleState.DESTROYED)
            )
            if key is not None
        )
    cutoff = _grace_cutoff(runtime)
    removable = []
    for key, info in stored.items():
        if key in known or key in referenced:
            continue
        report.findings.append(Finding("orphan", key, None, f"last modified {info.modified}"))
        if info.modified <= cutoff:
            removable.append(key)
        else:
            report.orphans_too_young += 1
    if repair and removable:
        try:
            runtime.store.delete_many(removable)
        except ArchiveError as error:
            report.findings.append(Finding("unreadable", "", None, f"repair failed: {error}"))
            return
        report.orphans_removed = len(removable)


def _unfinished(runtime: Runtime, report: CheckReport, *, repair: bool) -> None:
    try:
        report.uploads = unfinished_uploads(runtime, repair=repair)
    except ArchiveError as error:
        report.findings.append(Finding("unreadable", "", None, f"unfinished uploads: {error}"))
