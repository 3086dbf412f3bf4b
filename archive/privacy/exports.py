"""Export bundles: requested on a case, built in the background, downloaded once per link,
destroyed after `ARCHIVE_EXPORT_DAYS`.

A bundle is encrypted at rest like any content object (a data key of its own, wrapped by the
keyring, the bundle's id bound into every segment). Building streams: the ZIP is written,
encrypted and stored piece by piece. A bundle is destroyed by destroying its key first, in its
own commit, then deleting the object: a crash in between leaves ciphertext no key opens, which
the integrity check removes as an orphan.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.access.viewer import SYSTEM
from archive.background import start
from archive.contacts.objects import new_storage_key, present, put_new
from archive.crypto.stream import decrypt_stream, encrypt_stream
from archive.errors import ArchiveError, Conflict, Gone, NotFound
from archive.keys.rows import issue_key, open_key
from archive.privacy.bundle import gather, zip_chunks
from archive.privacy.cases import CaseService
from archive.privacy.models import (
    BundleState,
    CaseStatus,
    ExportBundle,
    PrivacyCase,
    RequestKind,
)
from archive.runtime import Runtime

log = structlog.get_logger(__name__)

# The Celery task that builds a bundle; archive/jobs.py registers it under this name.
EXPORT_TASK = "archive.privacy.export"
LINK_LIFETIME = timedelta(minutes=15)
# A build that has not finished in this long is taken to have died with its process.
STALE_BUILD = timedelta(hours=6)
# Progress is written at most this often: each write is a commit.
PROGRESS_EVERY = timedelta(seconds=1)
EXPORTABLE = (RequestKind.ACCESS, RequestKind.PORTABILITY)
LIVE = (BundleState.QUEUED, BundleState.BUILDING, BundleState.READY)


@dataclass(frozen=True)
class Link:
    token: str
    expires_at: datetime


class ExportService:
    def __init__(self, session: Session, runtime: Runtime, actor: str) -> None:
        self.session = session
        self.runtime = runtime
        self.actor = actor

    def request(self, case: PrivacyCase) -> ExportBundle:
        """Queue a new bundle for an open, verified access or portability case."""
        if case.kind not in EXPORTABLE:
            raise Conflict(
                f"case {case.id} is a {case.kind} request; only access and portability "
                "requests are answered with an export"
            )
        if case.status != CaseStatus.OPEN:
            raise Conflict(f"case {case.id} is {case.status}")
        CaseService(self.session, self.runtime, SYSTEM, self.actor).require_verified(case)
        if case.customer_id is None:
            raise Conflict(f"case {case.id} no longer has a customer")
        now = self.runtime.clock.now()
        for earlier in self._bundles(case.id):
            if earlier.state == BundleState.QUEUED or (
                earlier.state == BundleState.BUILDING
                and earlier.started_at is not None
                and earlier.started_at > now - STALE_BUILD
            ):
                raise Conflict(f"case {case.id} has a bundle being built already: {earlier.id}")
        bundle = ExportBundle(
            id=uuid.uuid4(),
            case_id=case.id,
            state=BundleState.QUEUED,
            requested_by=self.actor,
            requested_at=now,
        )
        self.session.add(bundle)
        self.session.flush()
        return bundle

    def get(self, bundle_id: uuid.UUID) -> ExportBundle:
        bundle = self.session.get(ExportBundle, bundle_id)
        if bundle is None:
            raise NotFound(f"no export bundle {bundle_id}")
        return bundle

    def of_case(self, case_id: uuid.UUID) -> list[ExportBundle]:
        """The case's bundles, newest first."""
        return self._bundles(case_id)

    def link(self, bundle: ExportBundle) -> Link:
        """A new one-time download link; an earlier link of the bundle stops working."""
        self._downloadable(bundle)
        token = secrets.token_urlsafe(32)
        expires = self.runtime.clock.now() + LINK_LIFETIME
        bundle.link_hash = _token_hash(token)
        bundle.link_expires_at = expires
        self.session.flush()
        return Link(token, expires)

    def redeem(self, token: str) -> ExportBundle:
        """The bundle a link opens, once: the link is spent in this transaction."""
        bundle = self.session.scalars(
            select(ExportBundle)
            .where(ExportBundle.link_hash == _token_hash(token))
            .with_for_update()
        ).first()
        now = self.runtime.clock.now()
        if bundle is None or bundle.link_expires_at is None or bundle.link_expires_at <= now:
            raise Gone(
                "this download link was used, has expired or was never issued; ask for a new one"
            )
        self._downloadable(bundle)
        bundle.link_hash = None
        bundle.link_expires_at = None
        bundle.downloads += 1
        bundle.last_downloaded_at = now
        self.session.flush()
        return bundle

    def _downloadable(self, bundle: ExportBundle) -> None:
        if bundle.state != BundleState.READY:
            raise Conflict(f"export bundle {bundle.id} is {bundle.state}, not ready")
        if bundle.expires_at is not None and bundle.expires_at <= self.runtime.clock.now():
            raise Gone(f"export bundle {bundle.id} has expired and is being destroyed")

    def _bundles(self, case_id: uuid.UUID) -> list[ExportBundle]:
        return list(
            self.session.scalars(
                select(ExportBundle)
                .where(ExportBundle.case_id == case_id)
                .order_by(ExportBundle.requested_at.desc(), ExportBundle.id)
            )
        )


def start_export(runtime: Runtime, bundle_id: uuid.UUID) -> str:
    """Build the bundle on a worker, or on a thread of this process; says where."""
    return start(runtime, EXPORT_TASK, [str(bundle_id)], lambda rt: build(rt, bundle_id))


def build(runtime: Runtime, bundle_id: uuid.UUID) -> ExportBundle:
    """Write the bundle: gather, stream the ZIP through encryption into the store, mark it ready.

    A failure marks the bundle failed with the reason and leaves nothing readable behind.
    """
    try:
        return _build(runtime, bundle_id)
    except Exception as error:
        _failed(runtime, bundle_id, error)
        raise


def _build(runtime: Runtime, bundle_id: uuid.UUID) -> ExportBundle:
    with runtime.session() as session:
        bundle = session.get(ExportBundle, bundle_id, with_for_update=True)
        if bundle is None:
            raise NotFound(f"no export bundle {bundle_id}")
        if bundle.state != BundleState.QUEUED:
            session.expunge(bundle)
            return bundle  # built, destroyed or taken by another worker already
        case = session.get_one(PrivacyCase, bundle.case_id)
        gathered = gather(session, runtime, case)
        bundle.state = BundleState.BUILDING
        bundle.started_at = runtime.clock.now()
        bundle.contacts_total = gathered.contacts
        bundle.storage_key = new_storage_key()
        bundle.segment_size = runtime.settings.segment_size
        data_key = issue_key(bundle, runtime.keys.keyring)
        storage_key, segment_size = bundle.storage_key, bundle.segment_size
        session.commit()
    plain = _Measured(zip_chunks(runtime, gathered, _Progress(runtime, bundle_id)))
    sealed = encrypt_stream(data_key, str(bundle_id), plain, segment_size=segment_size)
    stored_size = put_new(runtime.store, storage_key, sealed)
    with runtime.session() as session:
        bundle = session.get_one(ExportBundle, bundle_id, with_for_update=True)
        if bundle.state != BundleState.BUILDING:
            # Destroyed while it was being built (an erasure, say): its object goes too.
            session.rollback()
            runtime.store.delete_many([storage_key])
            session.expunge(bundle)
            return bundle
        bundle.state = BundleState.READY
        bundle.contacts_done = gathered.contacts
        bundle.files = len(gathered.manifest["files"])
        bundle.size = plain.size
        bundle.sha256 = plain.digest.digest()
        bundle.stored_size = stored_size
        bundle.finished_at = runtime.clock.now()
        bundle.expires_at = bundle.finished_at + timedelta(days=runtime.settings.export_days)
        session.commit()
        log.info("export bundle ready", bundle=str(bundle_id), files=bundle.files, size=bundle.size)
        session.expunge(bundle)
        return bundle


def read_bundle(runtime: Runtime, bundle: ExportBundle) -> Iterator[bytes]:
    """The bundle's ZIP, decrypted segment by segment."""
    assert bundle.storage_key is not None
    assert bundle.segment_size is not None
    data_key = open_key(bundle, runtime.keys.keyring)
    with present(f"export bundle {bundle.id}", bundle.storage_key):
        chunks = runtime.store.iter_chunks(bundle.storage_key)
    return decrypt_stream(data_key, str(bundle.id), chunks, segment_size=bundle.segment_size)


def destroy(runtime: Runtime, bundle_ids: Iterable[uuid.UUID], *, reason: str) -> int:
    """Destroy bundles: their keys in one commit, then their objects. Returns how many."""
    keys = []
    now = runtime.clock.now()
    with runtime.session() as session:
        bundles = list(
            session.scalars(
                select(ExportBundle)
                .where(ExportBundle.id.in_(list(bundle_ids)))
                .where(ExportBundle.state != BundleState.DESTROYED)
                .with_for_update()
            )
        )
        for bundle in bundles:
            bundle.state = BundleState.DESTROYED
            bundle.destroyed_at = now
            bundle.error = bundle.error or reason
            _shred(bundle)
            if bundle.storage_key is not None:
                keys.append(bundle.storage_key)
        session.commit()
    if keys:
        _delete_objects(runtime, keys)
    return len(bundles)


def destroy_expired(runtime: Runtime) -> int:
    """Destroy every bundle past its days, and failed ones (run by the scheduler)."""
    now = runtime.clock.now()
    with runtime.session() as session:
        due = list(
            session.scalars(
                select(ExportBundle.id).where(
                    ((ExportBundle.state == BundleState.READY) & (ExportBundle.expires_at <= now))
                    | (ExportBundle.state == BundleState.FAILED)
                    | (
                        (ExportBundle.state == BundleState.BUILDING)
                        & (ExportBundle.started_at <= now - STALE_BUILD)
                    )
                )
            )
        )
    return destroy(runtime, due, reason="expired") if due else 0


def destroy_for_customer(
    runtime: Runtime, customer_id: uuid.UUID, *, reason: str = "erased"
) -> list[uuid.UUID]:
    """Destroy every bundle of the customer's cases (an erasure takes them with it, a split
    too: they hold contacts that are no longer the customer's)."""
    with runtime.session() as session:
        ids = list(
            session.scalars(
                select(ExportBundle.id)
                .join(PrivacyCase, PrivacyCase.id == ExportBundle.case_id)
                .where(
                    PrivacyCase.customer_id == customer_id,
                    ExportBundle.state != BundleState.DESTROYED,
                )
            )
        )
    if ids:
        destroy(runtime, ids, reason=reason)
    return ids


def _failed(runtime: Runtime, bundle_id: uuid.UUID, error: Exception) -> None:
    # The reason is shown to privacy officers; the log keeps what only operators may see.
    reason = (
        error.public_detail if isinstance(error, ArchiveError) else "an internal error; see the log"
    )
    detail = error.detail if isinstance(error, ArchiveError) else type(error).__name__
    log.warning("export bundle failed", bundle=str(bundle_id), error=detail)
    key = None
    with runtime.session() as session:
        bundle = session.get(ExportBundle, bundle_id, with_for_update=True)
        if bundle is None or bundle.state not in (BundleState.QUEUED, BundleState.BUILDING):
            return
        bundle.state = BundleState.FAILED
        bundle.error = reason[:500]
        bundle.finished_at = runtime.clock.now()
        _shred(bundle)
        key = bundle.storage_key
        session.commit()
    if key is not None:
        # A failed put keeps nothing; this is for a failure after the object was stored.
        _delete_objects(runtime, [key])


def _shred(bundle: ExportBundle) -> None:
    bundle.kek_id = None
    bundle.wrapped_key = None
    bundle.link_hash = None
    bundle.link_expires_at = None


def _delete_objects(runtime: Runtime, keys: list[str]) -> None:
    try:
        runtime.store.delete_many(keys)
    except ArchiveError as error:
        # Without their keys they are unreadable; the integrity check removes them.
        log.warning("export objects left for the integrity check", error=error.detail)


class _Progress:
    """Records how many contacts are in the bundle so far, at most once a second."""

    def __init__(self, runtime: Runtime, bundle_id: uuid.UUID) -> None:
        self.runtime = runtime
        self.bundle_id = bundle_id
        self.written_at: datetime | None = None

    def __call__(self, done: int) -> None:
        now = self.runtime.clock.now()
        if self.written_at is not None and now - self.written_at < PROGRESS_EVERY:
            return
        self.written_at = now
        with self.runtime.session() as session:
            bundle = session.get(ExportBundle, self.bundle_id)
            if bundle is not None and bundle.state == BundleState.BUILDING:
                bundle.contacts_done = done
                session.commit()


class _Measured:
    """Counts and hashes the ZIP on its way to encryption."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = chunks
        self.size = 0
        self.digest = hashlib.sha256()

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._chunks:
            if chunk:
                self.size += len(chunk)
                self.digest.update(chunk)
                yield chunk


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
