"""Opening, verifying, extending and closing data-subject request cases.

The registers promise an answer within one month of receipt, extendable by two further months
with a stated reason; nothing is disclosed or changed before the requester's identity is verified.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.access.viewer import SYSTEM, Viewer
from archive.clock import checked_moment
from archive.crypto.fields import decrypt_field, encrypt_field
from archive.customers.service import CustomerService
from archive.errors import Conflict, InvalidInput, NotFound
from archive.keys.rows import issue_key, open_key
from archive.privacy.models import CaseStatus, IdentityMethod, PrivacyCase, RequestKind
from archive.retention.durations import Duration
from archive.runtime import Runtime

log = structlog.get_logger(__name__)

ANSWER_WITHIN = Duration(months=1)
LONGEST = Duration(months=3)  # one month, and at most two more with a reason
MAX_TEXT = 2000
DAY = 86400


@dataclass(frozen=True)
class CaseView:
    case: PrivacyCase
    days_left: int  # whole days until due; negative once overdue
    overdue: bool
    notes: str | None
    extension_reason: str | None


class CaseService:
    def __init__(self, session: Session, runtime: Runtime, viewer: Viewer, actor: str) -> None:
        self.session = session
        self.runtime = runtime
        self.viewer = viewer
        self.actor = actor

    def open(
        self,
        customer_id: uuid.UUID,
        kind: str,
        *,
        received_at: datetime | None = None,
        notes: str | None = None,
    ) -> PrivacyCase:
        """A new case for a customer found by any identifier; due one month from receipt."""
        customer = CustomerService(self.session, self.runtime, self.viewer).get(customer_id)
        now = self.runtime.clock.now()
        received = checked_moment(received_at, "received_at") if received_at else now
        if received > now:
            raise InvalidInput("received_at: cannot be in the future", field="received_at")
        case = PrivacyCase(
            id=uuid.uuid4(),
            customer_id=customer.id,
            kind=_kind(kind),
            status=CaseStatus.OPEN,
            received_at=received,
            due_at=ANSWER_WITHIN.after(received),
            opened_by=self.actor,
            opened_at=now,
        )
        data_key = issue_key(case, self.runtime.keys.keyring)
        if notes is not None:
            case.notes_ciphertext = encrypt_field(data_key, _text(notes, "notes"), case.key_context)
        self.session.add(case)
        self.session.flush()
        return case

    def get(self, case_id: uuid.UUID) -> PrivacyCase:
        case = self.session.get(PrivacyCase, case_id)
        if case is None:
            raise NotFound(f"no case {case_id}")
        return case

    def verify_identity(self, case: PrivacyCase, method: str, *, note: str | None) -> PrivacyCase:
        """Record how and by whom the requester's identity was verified."""
        self._open(case)
        try:
            how = IdentityMethod(method)
        except ValueError:
            allowed = ", ".join(m.value for m in IdentityMethod)
            raise InvalidInput(f"method: one of {allowed}", field="method") from None
        if how == IdentityMethod.OTHER and not (note and note.strip()):
            raise InvalidInput("note: say how the identity was verified", field="note")
        case.identity_method = how
        case.identity_verified_by = self.actor
        case.identity_verified_at = self.runtime.clock.now()
        if note:
            self._append_note(case, f"identity: {_text(note, 'note')}")
        self.session.flush()
        return case

    def require_verified(self, case: PrivacyCase) -> None:
        """Refuse any disclosure or change for a case whose requester is not yet verified."""
        if case.identity_verified_at is None:
            raise Conflict(
                f"case {case.id}: verify the requester's identity before disclosing or changing "
                "anything"
            )

    def extend(self, case: PrivacyCase, until: datetime, reason: str) -> PrivacyCase:
        """Move the due date, by at most two months beyond the first; a reason is required."""
        self._open(case)
        wanted = checked_moment(until, "until")
        text = _text(reason, "reason")
        if not text:
            raise InvalidInput("reason: an extension needs a stated reason", field="reason")
        if wanted <= case.due_at:
            raise InvalidInput("until: must be later than the current due date", field="until")
        if wanted > LONGEST.after(case.received_at):
            raise InvalidInput(
                "until: at most three months from receipt in all (one, and two more with a reason)",
                field="until",
            )
        case.due_at = wanted
        case.extended = True
        data_key = open_key(case, self.runtime.keys.keyring)
        case.extension_reason_ciphertext = encrypt_field(data_key, text, case.key_context)
        self.session.flush()
        return case

    def rectify(self, case: PrivacyCase, kind: str, values: list[str]) -> None:
        """Correct the customer's identifiers of one kind, for an open rectification case whose
        requester is verified."""
        self._open(case)
        if case.kind != RequestKind.RECTIFICATION:
            raise Conflict(f"case {case.id} is a {case.kind} request, not a rectification")
        self.require_verified(case)
        if case.customer_id is None:
            raise Conflict(f"case {case.id} no longer has a customer")
        customers = CustomerService(self.session, self.runtime, self.viewer)
        customers.rectify(customers.get(case.customer_id), kind, values)

    def decide_objection(self, case: PrivacyCase, *, upheld: bool, note: str | None) -> None:
        """Record the decision on an objection; upheld, it keeps the customer's contacts out of
        quality projects from now on (nothing is deleted). The case is then completed."""
        self._open(case)
        if case.kind != RequestKind.OBJECTION:
            raise Conflict(f"case {case.id} is a {case.kind} request, not an objection")
        self.require_verified(case)
        if case.customer_id is None:
            raise Conflict(f"case {case.id} no longer has a customer")
        customer = CustomerService(self.session, self.runtime, self.viewer).get(case.customer_id)
        if upheld:
            customer.objected_at = customer.objected_at or self.runtime.clock.now()
        decision = "upheld" if upheld else "not upheld"
        self.close(case, CaseStatus.COMPLETED, note=f"objection {decision}. {note or ''}".strip())

    def close(self, case: PrivacyCase, status: str, *, note: str | None = None) -> PrivacyCase:
        self._open(case)
        try:
            final = CaseStatus(status)
        except ValueError:
            raise InvalidInput("status: completed or rejected", field="status") from None
        if final == CaseStatus.OPEN:
            raise InvalidInput("status: completed or rejected", field="status")
        if final == CaseStatus.COMPLETED:
            self.require_verified(case)
        if note:
            self._append_note(case, f"closing: {_text(note, 'note')}")
        case.status = final
        case.closed_by = self.actor
        case.closed_at = self.runtime.clock.now()
        self.session.flush()
        return case

    def queue(self, *, include_closed: bool = False) -> list[CaseView]:
        """Cases by due date, soonest (or most overdue) first."""
        query = select(PrivacyCase).order_by(PrivacyCase.due_at, PrivacyCase.id)
        if not include_closed:
            query = query.where(PrivacyCase.status == CaseStatus.OPEN)
        return [self.view(case) for case in self.session.scalars(query)]

    def view(self, case: PrivacyCase) -> CaseView:
        now = self.runtime.clock.now()
        seconds = (case.due_at - now).total_seconds()
        data_key = open_key(case, self.runtime.keys.keyring)

        def opened(blob: bytes | None) -> str | None:
            return decrypt_field(data_key, blob, case.key_context) if blob else None

        return CaseView(
            case=case,
            days_left=int(seconds // DAY),
            overdue=case.status == CaseStatus.OPEN and seconds < 0,
            notes=opened(case.notes_ciphertext),
            extension_reason=opened(case.extension_reason_ciphertext),
        )

    def overdue(self) -> list[PrivacyCase]:
        now = self.runtime.clock.now()
        return list(
            self.session.scalars(
                select(PrivacyCase)
                .where(PrivacyCase.status == CaseStatus.OPEN, PrivacyCase.due_at < now)
                .order_by(PrivacyCase.due_at)
            )
        )

    def _open(self, case: PrivacyCase) -> None:
        if case.status != CaseStatus.OPEN:
            raise Conflict(f"case {case.id} is {case.status}")

    def _append_note(self, case: PrivacyCase, line: str) -> None:
        data_key = open_key(case, self.runtime.keys.keyring)
        before = (
            decrypt_field(data_key, case.notes_ciphertext, case.key_context)
            if case.notes_ciphertext
            else ""
        )
        text = f"{before}\n{line}".strip()
        case.notes_ciphertext = encrypt_field(data_key, text, case.key_context)


def warn_overdue(runtime: Runtime) -> list[uuid.UUID]:
    """Log a warning for each open case past its due date (run daily); returns their ids."""
    with runtime.session() as session:
        late = CaseService(session, runtime, SYSTEM, "scheduler").overdue()
        now = runtime.clock.now()
        for case in late:
            log.warning(
                "data-subject request overdue",
                case=str(case.id),
                kind=case.kind,
                due=case.due_at.isoformat(),
                days_late=int((now - case.due_at).total_seconds() // DAY),
            )
        return [case.id for case in late]


def _kind(value: str) -> RequestKind:
    try:
        return RequestKind(value)
    except ValueError:
        allowed = ", ".join(k.value for k in RequestKind)
        raise InvalidInput(f"kind: one of {allowed}", field="kind") from None


def _text(value: object, field: str) -> str:
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise InvalidInput(f"{field}: text of at most {MAX_TEXT} characters", field=field)
    return value.strip()
