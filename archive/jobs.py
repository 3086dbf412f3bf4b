"""The archive's jobs, declared once: what Celery beat schedules, what the Celery workers run,
what the embedded schedule runs in-process, and what is started on demand.

Each job is a function of a `Runtime` and plain JSON arguments that returns a JSON summary.
`workers/app.py` derives the beat schedule from this table, `workers/tasks.py` registers one
Celery task per job under its name, and `archive/schedule.py` runs the periodic ones on a
thread when there is no broker.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from archive.audit.actor import job
from archive.audit.use_cases import prune_log, seal_log
from archive.connectors.activity import prune_hours
from archive.connectors.bucket import BucketWatch
from archive.connectors.folder import FolderWatch
from archive.connectors.use_cases.bucket import watch_bucket
from archive.connectors.use_cases.folder import watch_folder
from archive.connectors.use_cases.imap import read_mailboxes
from archive.integrity.check import check
from archive.keys.rotation import rewrap_all
from archive.lifecycle.use_cases import run_sweep
from archive.privacy.cases import warn_overdue
from archive.privacy.exports import EXPORT_TASK, build, destroy_expired
from archive.retention.service import RETIME_TASK, retime
from archive.runtime import Runtime
from archive.settings import Settings

Summary = dict[str, Any]

# The audit trail names who ran a sweep: Celery's runs are the worker's, the embedded
# schedule's are the scheduler's.
WORKER_ACTOR = "worker"
SCHEDULER_ACTOR = "scheduler"

# How often the integrity sweep runs. Beat gives every run `expires` = its interval, so a
# stopped worker does not find a pile of identical runs when it comes back.
INTEGRITY_EVERY = 24 * 3600.0
# Audit records past their retention go once a day (whole months, so most days nothing does).
AUDIT_PRUNE_EVERY = 24 * 3600.0
# Overdue data-subject requests are logged as warnings once a day.
OVERDUE_EVERY = 24 * 3600.0
# The connectors' hourly counts past a month go once a day.
CONNECTOR_HOURS_EVERY = 24 * 3600.0
# Export bundles past their days are destroyed within the hour.
EXPORTS_EVERY = 3600.0

SWEEP_TASK = "archive.retention.sweep"
INTEGRITY_TASK = "archive.integrity.check"
SEAL_TASK = "archive.audit.seal"
AUDIT_PRUNE_TASK = "archive.audit.prune"
REWRAP_TASK = "archive.keys.rewrap"
OVERDUE_TASK = "archive.privacy.overdue"
EXPIRE_EXPORTS_TASK = "archive.privacy.expire_exports"
CONNECTOR_HOURS_TASK = "archive.connectors.prune_hours"
WATCH_FOLDER_TASK = "archive.connectors.watch_folder"
WATCH_BUCKET_TASK = "archive.connectors.watch_bucket"
# Recordings one bucket pass takes at most, so a large backlog does not hold up the jobs
# queued behind it; the next pass goes on from the marker.
BUCKET_PASS_LIMIT = 500
IMAP_TASK = "archive.connectors.imap"


@dataclass(frozen=True)
class Job:
    name: str
    """The Celery task name."""
    label: str
    """The beat schedule's entry, and the name in log lines."""
    run: Callable[..., Summary]
    """Called with a `Runtime` and the job's JSON arguments; returns a JSON summary."""
    interval: float | str | None = None
    """Seconds between runs, or the name of the `Settings` field that holds them; None for a
    job that runs only when started."""
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    """The arguments of a scheduled run (beat's and the embedded schedule's)."""
    embedded_kwargs: Mapping[str, Any] = field(default_factory=dict)
    """Added to `kwargs` when the embedded schedule runs the job."""
    idle: Callable[[Summary], bool] | None = None
    """Whether a run's summary says it found nothing to do: logged at debug, not info, so a
    job that runs every few seconds does not fill the log."""

    @property
    def periodic(self) -> bool:
        return self.interval is not None

    def every(self, settings: Settings) -> float:
        """Seconds between runs under `settings`."""
        if self.interval is None:
            raise ValueError(f"{self.name} runs only when started")
        if isinstance(self.interval, str):
            return float(getattr(settings, self.interval))
        return float(self.interval)


def expiry_sweep(runtime: Runtime, dry_run: bool = False, actor: str = WORKER_ACTOR) -> Summary:
    """One expiry sweep; several workers may run it at once and split the due contacts."""
    report = run_sweep(runtime, job(actor), dry_run=dry_run)
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


def retime_contacts(runtime: Runtime, record_id: int) -> Summary:
    """Re-time stored contacts under the policy applied as `record_id` (resumable); when
    another re-time runs already, leave the work to it (contacts: 0)."""
    return {"policy_record": record_id, "contacts": retime(runtime, record_id, wait=False)}


def integrity_check(runtime: Runtime, repair: bool = False, deep: bool = True) -> Summary:
    """Compare store and database; with `repair`, remove what has passed the grace period."""
    report = check(runtime, repair=repair, deep=deep)
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


def audit_seal(runtime: Runtime) -> Summary:
    """Fold new audit records into the Merkle tree, sign its head, keep it outside the database."""
    sealed = seal_log(runtime)
    if sealed is None:
        return {"sealed": False, "reason": "another sequencer holds the lease"}
    return {
        "sealed": True,
        "tree_size": sealed.tree_size,
        "added": sealed.added,
        "published": sealed.published,
    }


def audit_prune(runtime: Runtime, actor: str = WORKER_ACTOR) -> Summary:
    """Remove the audit records of the months past ARCHIVE_AUDIT_RETENTION_DAYS."""
    report = prune_log(runtime, job(actor))
    return {
        "before": report.before.isoformat(),
        "leaf_end": report.leaf_end,
        "removed": report.removed,
    }


def rewrap_keys(runtime: Runtime, batch_size: int = 500) -> Summary:
    """Rewrap every data key not yet under the active key-encryption key."""
    report = rewrap_all(runtime, batch_size=batch_size)
    return {"active_kek": report.active_kek, "rewrapped": report.rewrapped}


def overdue_requests(runtime: Runtime) -> Summary:
    """Log a warning for every open data-subject request past its due date."""
    return {"overdue": [str(case_id) for case_id in warn_overdue(runtime)]}


def build_export(runtime: Runtime, bundle_id: str) -> Summary:
    """Build a data subject's export bundle (a bundle built or destroyed already is left)."""
    bundle = build(runtime, uuid.UUID(bundle_id))
    return {"bundle": bundle_id, "state": bundle.state, "files": bundle.files, "size": bundle.size}


def prune_connector_hours(runtime: Runtime) -> Summary:
    """Remove the connectors' hourly counts older than a month."""
    return {"removed": prune_hours(runtime)}


def expire_exports(runtime: Runtime) -> Summary:
    """Destroy export bundles past their days, and failed ones."""
    return {"destroyed": destroy_expired(runtime)}


def recording_folder(runtime: Runtime) -> Summary:
    """One pass over ARCHIVE_WATCH_DIR; nothing when it is not set."""
    if runtime.settings.watch_dir is None:
        return {"watched": False}
    report = watch_folder(runtime, FolderWatch.of(runtime.settings))
    return {"watched": True, **report.summary()}


def recording_bucket(runtime: Runtime, limit: int = BUCKET_PASS_LIMIT) -> Summary:
    """One pass over ARCHIVE_WATCH_BUCKET, of at most `limit` recordings; nothing when it is
    not set."""
    if not runtime.settings.watch_bucket:
        return {"watched": False}
    report = watch_bucket(runtime, BucketWatch.of(runtime.settings), limit=limit)
    return {"watched": True, **report.summary()}


def _quiet_watch(summary: Summary) -> bool:
    """A pass that brought nothing in and met nothing wrong."""
    moved = ("stored", "repeated", "deferred", "refused", "error")
    return not summary.get("watched") or not any(summary.get(key) for key in moved)


def imap_pass(runtime: Runtime) -> Summary:
    """Archive what arrived in the IMAP mailboxes; nothing when ARCHIVE_IMAP_HOST is unset."""
    passes = read_mailboxes(runtime)
    return {
        "mailboxes": [
            {
                "source": done.source,
                **{outcome.value: count for outcome, count in done.counts.items()},
                "backlog": done.backlog,
                "busy": done.busy,
                "error": done.error,
            }
            for done in passes
        ]
    }


def _imap_idle(summary: Summary) -> bool:
    """Nothing new in any mailbox, and no error."""
    return not any(
        mailbox["stored"] or mailbox["refused"] or mailbox["deferred"] or mailbox["error"]
        for mailbox in summary["mailboxes"]
    )


# Jobs due at the same moment run in this order in-process: the quick ones first, the
# integrity check, which reads every stored object, last.
JOBS: tuple[Job, ...] = (
    Job(OVERDUE_TASK, "overdue-requests", overdue_requests, OVERDUE_EVERY),
    Job(EXPIRE_EXPORTS_TASK, "expired-exports", expire_exports, EXPORTS_EVERY),
    Job(
        CONNECTOR_HOURS_TASK,
        "connector-hours",
        prune_connector_hours,
        CONNECTOR_HOURS_EVERY,
        idle=lambda summary: not summary.get("removed"),
    ),
    Job(
        SWEEP_TASK,
        "expiry-sweep",
        expiry_sweep,
        interval="expiry_interval_seconds",
        embedded_kwargs={"actor": SCHEDULER_ACTOR},
    ),
    Job(
        SEAL_TASK,
        "audit-seal",
        audit_seal,
        interval="audit_seal_seconds",
        idle=lambda summary: not summary.get("added"),
    ),
    Job(
        AUDIT_PRUNE_TASK,
        "audit-prune",
        audit_prune,
        AUDIT_PRUNE_EVERY,
        embedded_kwargs={"actor": SCHEDULER_ACTOR},
    ),
    Job(
        WATCH_FOLDER_TASK,
        "recording-folder",
        recording_folder,
        interval="watch_interval_seconds",
        idle=_quiet_watch,
    ),
    Job(
        WATCH_BUCKET_TASK,
        "recording-bucket",
        recording_bucket,
        interval="watch_interval_seconds",
        idle=_quiet_watch,
    ),
    Job(IMAP_TASK, "imap", imap_pass, interval="imap_interval_seconds", idle=_imap_idle),
    Job(INTEGRITY_TASK, "integrity-check", integrity_check, INTEGRITY_EVERY, {"repair": True}),
    # Started when a policy is applied or a privacy officer asks for an export; the rewrap
    # when an operator sends it (`archive keys rotate` rewraps at the console itself).
    Job(RETIME_TASK, "retime", retime_contacts),
    Job(EXPORT_TASK, "export", build_export),
    Job(REWRAP_TASK, "rewrap-keys", rewrap_keys),
)

PERIODIC: tuple[Job, ...] = tuple(job for job in JOBS if job.periodic)
