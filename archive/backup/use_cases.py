"""Restoring a backup as an operation of the trail: the gap it left is recorded."""

from __future__ import annotations

from sqlalchemy.orm import Session

from archive.audit import Actor, AuditAction
from archive.audit.service import AuditLog
from archive.backup.service import AuditGap, Manifest
from archive.runtime import Runtime


def record_restore(
    session: Session, runtime: Runtime, actor: Actor, manifest: Manifest, gap: AuditGap
) -> None:
    """Record that the backup `manifest` describes was restored, and the audit log's gap
    against the signed heads kept outside the database: how many sealed records, in how many
    heads, are newer than the restored log."""
    AuditLog(session, runtime).record(
        actor,
        AuditAction.BACKUP_RESTORE,
        target_type="backup",
        target_ids=[manifest.backup_id, f"gap:{gap.records}", f"heads:{gap.newer_heads}"],
    )
    session.commit()


def record_backup(session: Session, runtime: Runtime, actor: Actor, manifest: Manifest) -> None:
    """Record that a backup was taken: a copy of the whole database, and perhaps of the keys,
    left the archive. Written after the dump, so the backup itself does not hold it."""
    keys = "keys:sealed" if manifest.keys_included else "keys:external"
    AuditLog(session, runtime).record(
        actor, AuditAction.BACKUP_TAKE, target_type="backup", target_ids=[manifest.backup_id, keys]
    )
    session.commit()
