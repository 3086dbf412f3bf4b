"""Who acts, as the audit trail names them, whichever way they came in (API, page, console)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from archive.audit.actions import AuditAction, Outcome
from archive.audit.service import AuditLog
from archive.runtime import Runtime


@dataclass(frozen=True)
class Actor:
    name: str  # a user name, or `console:<OS user>` at the console
    user_id: uuid.UUID | None = None
    role: str | None = None  # the role the action was allowed through
    source_address: str | None = None

    def record(
        self,
        session: Session,
        runtime: Runtime,
        action: AuditAction,
        *,
        target_type: str | None,
        target_ids: Iterable[object],
        purpose: str | None = None,
    ) -> None:
        """Append an allowed action to the trail, in the caller's transaction."""
        AuditLog(session, runtime).record(
            actor=self.name,
            actor_id=self.user_id,
            role=self.role,
            action=action,
            outcome=Outcome.ALLOWED,
            target_type=target_type,
            target_ids=[str(t) for t in target_ids if t is not None],
            purpose=purpose,
            source_address=self.source_address,
        )
