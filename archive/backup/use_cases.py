"""Restoring a backup as an operation of the trail: the gap it left is recorded."""

from __future__ import annotations

from sqlalchemy.orm import Session

from archive.audit import Actor, AuditAction
from archive.audit.service import AuditLog
from archive.backup.service import AuditGap, Manifest
from archive.runtime import Runtime

#: AuditRecord.purpose holds at most this many characters.
PURPOSE_LENGTH = 200


def record_restore(
    session: Session, runtime: Runtime, actor: Actor, manifest: Manifest, gap: AuditGap
) -> None:
    """Record that the backup `manifest` describes was restored, and the audit log's gap
    against the signed heads kept outside the database (a check of the log, hence
    `audit:verify`, naming the backup)."""
    said = (
        f"restored the backup of {manifest.taken_at:%Y-%m-%dT%H:%M:%SZ}; "
        f"{gap.records} sealed records in {gap.newer_heads} signed heads outside are newer"
    )
    AuditLog(session, runtime).record(
        actor.for_purpose(said[:PURPOSE_LENGTH]),
        AuditAction.AUDIT_VERIFY,
        target_type="backup",
        target_ids=[manifest.backup_id],
    )
    session.commit()
