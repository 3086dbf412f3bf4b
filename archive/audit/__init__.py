"""The tamper-evident audit log: who did what to which ids, when, why, and whether allowed."""

from archive.audit.actions import AuditAction, Outcome
from archive.audit.actor import Actor
from archive.audit.chain import GENESIS, RecordFields, audit_key, audit_key_id, record_hash
from archive.audit.legacy import CheckpointProblem
from archive.audit.models import AuditCheckpoint, AuditRecord
from archive.audit.service import export_document
from archive.audit.verify import VerifyReport, verify

__all__ = [
    "GENESIS",
    "Actor",
    "AuditAction",
    "AuditCheckpoint",
    "AuditRecord",
    "CheckpointProblem",
    "Outcome",
    "RecordFields",
    "VerifyReport",
    "audit_key",
    "audit_key_id",
    "export_document",
    "record_hash",
    "verify",
]
