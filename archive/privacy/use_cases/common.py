"""What the privacy use cases share: whose eyes the services read for, the role a record names,
and the records of cases and bundles."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from archive.access.actors import viewer_for
from archive.audit import Actor, AuditAction
from archive.audit.service import AuditLog
from archive.privacy.cases import CaseService
from archive.privacy.exports import ExportService
from archive.privacy.models import ExportBundle, PrivacyCase
from archive.runtime import Runtime


def case_service(session: Session, runtime: Runtime, actor: Actor) -> CaseService:
    return CaseService(session, runtime, viewer_for(actor), actor.name)


def export_service(session: Session, runtime: Runtime, actor: Actor) -> ExportService:
    return ExportService(session, runtime, actor.name)


def record_cases(
    session: Session,
    runtime: Runtime,
    actor: Actor,
    action: AuditAction,
    cases: Sequence[PrivacyCase],
) -> None:
    """Record `action` on the cases, naming their customers too (in the caller's transaction)."""
    AuditLog(session, runtime).record(
        actor,
        action,
        target_type="case",
        target_ids=[c.id for c in cases] + [c.customer_id for c in cases if c.customer_id],
    )


def record_bundle(
    session: Session, runtime: Runtime, actor: Actor, action: AuditAction, bundle: ExportBundle
) -> None:
    """Record `action` on the bundle, naming its case and customer too."""
    case = session.get_one(PrivacyCase, bundle.case_id)
    AuditLog(session, runtime).record(
        actor, action, target_type="case", target_ids=[case.id, bundle.id, case.customer_id]
    )
