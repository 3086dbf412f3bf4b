"""Export bundles of a case: request one, follow it, link it, download it, destroy it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy.orm import Session

from archive.audit import Actor, AuditAction
from archive.privacy.exports import Link, build, destroy, read_bundle, start_export
from archive.privacy.models import ExportBundle
from archive.privacy.use_cases.common import case_service, export_service, record_bundle
from archive.runtime import Runtime


@dataclass(frozen=True)
class Download:
    bundle: ExportBundle
    chunks: Iterator[bytes]  # the ZIP, decrypted as it is read


def request_export(
    session: Session,
    runtime: Runtime,
    actor: Actor,
    case_id: uuid.UUID,
    *,
    in_background: bool = True,
) -> ExportBundle:
    """Queue the bundle of an open access or portability case whose requester is verified, and
    start building it; `in_background=False` leaves the building to the caller, who waits for
    it (`build_and_download`)."""
    case = case_service(session, runtime, actor).get(case_id)
    bundle = export_service(session, runtime, actor).request(case)
    record_bundle(session, runtime, actor, AuditAction.EXPORT_REQUEST, bundle)
    session.commit()
    if in_background:
        start_export(runtime, bundle.id)
    return bundle


def case_exports(
    session: Session, runtime: Runtime, actor: Actor, case_id: uuid.UUID
) -> list[ExportBundle]:
    """The case's bundles, newest first."""
    case = case_service(session, runtime, actor).get(case_id)
    return export_service(session, runtime, actor).of_case(case.id)


def export_progress(
    session: Session, runtime: Runtime, actor: Actor, bundle_id: uuid.UUID
) -> ExportBundle:
    """A bundle's state and progress."""
    return export_service(session, runtime, actor).get(bundle_id)


def issue_link(session: Session, runtime: Runtime, actor: Actor, bundle_id: uuid.UUID) -> Link:
    """A download link that works once, within 15 minutes; a new one replaces the last."""
    exports = export_service(session, runtime, actor)
    bundle = exports.get(bundle_id)
    link = exports.link(bundle)
    record_bundle(session, runtime, actor, AuditAction.EXPORT_LINK, bundle)
    session.commit()
    return link


def download_export(session: Session, runtime: Runtime, actor: Actor, token: str) -> Download:
    """The bundle a link opens; the link is spent, and the download recorded, before any of
    the ZIP is read."""
    bundle = export_service(session, runtime, actor).redeem(token)
    record_bundle(session, runtime, actor, AuditAction.EXPORT_DOWNLOAD, bundle)
    session.commit()
    return Download(bundle, read_bundle(runtime, bundle))


def build_and_download(
    session: Session, runtime: Runtime, actor: Actor, bundle_id: uuid.UUID
) -> Download:
    """Build a requested bundle here and now, and hand it over without a link (the console's
    way: its operator waits for the file)."""
    built = build(runtime, bundle_id)
    record_bundle(session, runtime, actor, AuditAction.EXPORT_DOWNLOAD, built)
    session.commit()
    return Download(built, read_bundle(runtime, built))


def destroy_export(
    session: Session, runtime: Runtime, actor: Actor, bundle_id: uuid.UUID
) -> ExportBundle:
    """Destroy a bundle now (its key, then its object); the bundle as it is afterwards."""
    exports = export_service(session, runtime, actor)
    record_bundle(session, runtime, actor, AuditAction.EXPORT_DESTROY, exports.get(bundle_id))
    session.commit()
    destroy(runtime, [bundle_id], reason=f"destroyed by {actor.name}")
    session.expire_all()  # destroyed in a session of its own
    return exports.get(bundle_id)
