"""Tasks take ids and plain values, call the service layer, and return a JSON summary."""

from __future__ import annotations

import uuid
from typing import Any

from archive.audit import AuditLog
from archive.integrity.check import check
from archive.keys.rotation import rewrap_all
from archive.lifecycle.sweep import sweep
from archive.privacy.cases import warn_overdue
from archive.privacy.exports import EXPORT_TASK, build, destroy_expired
from archive.retention.service import retime
from archive.runtime import Runtime, build_runtime
from archive.settings import Settings
from workers.app import app

_runtime: Runtime | None = None


def worker_runtime() -> Runtime:
    """One runtime per worker process, built on first use."""
    global _runtime  # noqa: PLW0603 - a per-process cache is the point
    if _runtime is None:
        _runtime = build_runtime(Settings.from_env())
    _runtime.refresh_keys()
    return _runtime


@app.task(name="archive.integrity.check")
def integrity_check(repair: bool = False, deep: bool = True) -> dict[str, Any]:
    report = check(worker_runtime(), repair=repair, deep=deep)
    kinds = ("orphan", "missing", "size-mismatch", "digest-mismatch", "unreadable")
    return {
        "objects_checked": report.objects_checked,
        "stored_objects": report.stored_objects,
        "orphans_removed": report.orphans_removed,
        "unfinished_uploads": {
            "found": report.uploads.found,
            "stale": report.uploads.stale,
            "removed": report.uploads.removed,
        },
        "ok": report.ok,
        "findings": {kind: report.count(kind) for kind in kinds},
    }


@app.task(name="archive.audit.checkpoint")
def audit_checkpoint() -> dict[str, Any]:
    runtime = worker_runtime()
    with runtime.session() as session:
        checkpoint = AuditLog(session, runtime).checkpoint()
        session.commit()
    if checkpoint is None:
        return {"checkpoint_id": None, "record_id": None}
    return {"checkpoint_id": checkpoint.id, "record_id": checkpoint.record_id}


@app.task(name="archive.keys.rewrap")
def rewrap_keys(batch_size: int = 500) -> dict[str, Any]:
    report = rewrap_all(worker_runtime(), batch_size=batch_size)
    return {"active_kek": report.active_kek, "rewrapped": report.rewrapped}


@app.task(name="archive.retention.sweep")
def expiry_sweep(dry_run: bool = False) -> dict[str, Any]:
    """One expiry sweep; several workers may run it at once and split the due contacts."""
    report = sweep(worker_runtime(), actor="worker", dry_run=dry_run)
    return {
        "run_id": str(report.run_id) if report.run_id else None,
        "policy_version": report.policy_version,
        "deleted": report.deleted_count,
        "by_channel": {f"{c}:{r}": n for (c, r), n in sorted(report.deleted.items())},
        "kept": len(report.kept),
        "lapsed_holds": len(report.lapsed),
        "finished": report.finished,
        "error": report.error,
    }


@app.task(name="archive.retention.retime")
def retime_contacts(record_id: int) -> dict[str, Any]:
    """Re-time stored contacts under the policy applied as `record_id` (resumable)."""
    return {"policy_record": record_id, "contacts": retime(worker_runtime(), record_id)}


@app.task(name="archive.privacy.overdue")
def overdue_requests() -> dict[str, Any]:
    """Log a warning for every open data-subject request past its due date."""
    return {"overdue": [str(case_id) for case_id in warn_overdue(worker_runtime())]}


@app.task(name=EXPORT_TASK)
def build_export(bundle_id: str) -> dict[str, Any]:
    """Build a data subject's export bundle (a bundle built or destroyed already is left)."""
    bundle = build(worker_runtime(), uuid.UUID(bundle_id))
    return {"bundle": bundle_id, "state": bundle.state, "files": bundle.files, "size": bundle.size}


@app.task(name="archive.privacy.expire_exports")
def expire_exports() -> dict[str, Any]:
    """Destroy export bundles past their days, and failed ones."""
    return {"destroyed": destroy_expired(worker_runtime())}
