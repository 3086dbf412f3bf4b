"""Erasure ("the right to be forgotten"): crypto-shred everything about a customer that no hold
keeps, say what was withheld and why, and sign a certificate that holds no personal data.

Withheld contacts are erased when their hold ends: every sweep continues open erasure cases,
and the case closes itself once nothing is withheld. Like the sweep, each step can be repeated
after a crash: contacts go through the same claim and finish steps (`lifecycle.deletion`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from archive.access.viewer import SYSTEM
from archive.audit import Actor, AuditAction
from archive.audit.chain import canonical
from archive.audit.service import AuditLog
from archive.clock import LATEST
from archive.contacts.models import Contact, ContactState
from archive.customers.certainty import guessed
from archive.customers.models import Customer
from archive.errors import Conflict
from archive.holds.coverage import covering, keeping
from archive.lifecycle.deletion import claim, finish
from archive.privacy.cases import CaseService
from archive.privacy.certificates import CERTIFICATE_FORMAT, sign
from archive.privacy.exports import destroy_for_customer
from archive.privacy.models import CaseStatus, ErasureCertificate, PrivacyCase, RequestKind
from archive.retention.service import RetentionService
from archive.runtime import Runtime
from archive.tickets.models import Ticket

ERASURE = "erasure"


#: Why a contact is withheld when no hold keeps it: whose it is, is still a guess.
IDENTITY_REVIEW = "identity_review"


@dataclass
class Withheld:
    contact_id: uuid.UUID
    channel: str
    hold_id: uuid.UUID | None  # None: withheld until its identity review is resolved
    reason: str  # the hold's reason, or IDENTITY_REVIEW
    until: datetime | None  # None: until the hold is released, or the review resolved


@dataclass
class ErasureResult:
    certificate: ErasureCertificate
    withheld: list[Withheld] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.withheld


# The role erasure is recorded through when its actor brings none (the sweep continuing it).
PRIVACY_ROLE = "privacy"


def claimant(case_id: uuid.UUID) -> str:
    return f"erasure:{case_id}"


def erase(runtime: Runtime, case_id: uuid.UUID, *, actor: Actor) -> ErasureResult:
    """Erase what no hold keeps; repeatable: a second call finishes and re-certifies.

    The trail names `actor` (acting as the privacy role where they bring no role of their own,
    as the sweep's continuation does)."""
    actor = actor if actor.role else actor.acting_as(PRIVACY_ROLE)
    by = claimant(case_id)
    withheld: list[Withheld] = []
    done = _final_certificate(runtime, case_id)
    if done is not None:
        return ErasureResult(done)  # erased already: the same answer again
    with runtime.session() as session:
        case = _erasure_case(session, runtime, case_id, actor.name)
        customer_id = case.customer_id
        if customer_id is not None:
            withheld = _claim_unheld(session, runtime, customer_id, by)
        session.commit()
    if customer_id is not None:
        # Copies made for the customer's access requests go first: they hold everything.
        _destroy_bundles(runtime, customer_id, case_id, actor)
    pending = _claimed(runtime, by)
    if pending:
        finish(runtime, pending, by=by, policy_version=None)
    if customer_id is not None and not withheld:
        _erase_customer(runtime, customer_id)
    return _certify(runtime, case_id, withheld, actor)


def continue_erasures(runtime: Runtime, *, actor: Actor) -> list[ErasureResult]:
    """Erase what the holds of open erasure cases have let go since (run by every sweep)."""
    with runtime.session() as session:
        waiting = list(
            session.scalars(
                select(PrivacyCase.id).where(
                    PrivacyCase.kind == RequestKind.ERASURE,
                    PrivacyCase.status == CaseStatus.OPEN,
                    exists().where(ErasureCertificate.case_id == PrivacyCase.id),
                )
            )
        )
    return [erase(runtime, case_id, actor=actor) for case_id in waiting]


def _destroy_bundles(
    runtime: Runtime, customer_id: uuid.UUID, case_id: uuid.UUID, actor: Actor
) -> None:
    destroyed = destroy_for_customer(runtime, customer_id)
    if not destroyed:
        return
    with runtime.session() as session:
        AuditLog(session, runtime).record(
            actor,
            AuditAction.EXPORT_DESTROY,
            target_type="case",
            target_ids=[case_id, *destroyed],
        )
        session.commit()


def _final_certificate(runtime: Runtime, case_id: uuid.UUID) -> ErasureCertificate | None:
    with runtime.session() as session:
        found = session.scalars(
            select(ErasureCertificate).where(
                ErasureCertificate.case_id == case_id, ErasureCertificate.complete.is_(True)
            )
        ).first()
        if found is not None:
            session.expunge(found)
        return found


def _erasure_case(
    session: Session, runtime: Runtime, case_id: uuid.UUID, actor: str
) -> PrivacyCase:
    cases = CaseService(session, runtime, SYSTEM, actor)
    case = cases.get(case_id)
    if case.kind != RequestKind.ERASURE:
        raise Conflict(f"case {case.id} is a {case.kind} request, not an erasure")
    if case.status != CaseStatus.OPEN:
        raise Conflict(f"case {case.id} is {case.status}")
    cases.require_verified(case)
    return case


def _claim_unheld(
    session: Session, runtime: Runtime, customer_id: uuid.UUID, by: str
) -> list[Withheld]:
    """Lock the customer's contacts, claim those no hold keeps and whose customer is certain;
    say which are withheld (a contact that may be someone else's is not erased on a guess)."""
    now = runtime.clock.now()
    contacts = list(
        session.scalars(
            select(Contact)
            .where(Contact.customer_id == customer_id, Contact.state == ContactState.ACTIVE)
            .order_by(Contact.id)
            .with_for_update()
        )
    )
    policy = RetentionService(session, runtime).in_force()
    kept = keeping(contacts, covering(session, contacts), policy, now)
    doubted = guessed(session, [c.id for c in contacts])
    erasable = [c.id for c in contacts if c.id not in kept and c.id not in doubted]
    claim(session, erasable, by=by, reason=ERASURE, now=now)
    withheld = [
        Withheld(
            contact_id=c.id,
            channel=c.channel,
            hold_id=kept[c.id].hold.id,
            reason=kept[c.id].hold.reason,
            until=None if kept[c.id].until == LATEST else kept[c.id].until,
        )
        for c in contacts
        if c.id in kept
    ]
    return withheld + [
        Withheld(c.id, c.channel, None, IDENTITY_REVIEW, None)
        for c in contacts
        if c.id in doubted and c.id not in kept
    ]


def _claimed(runtime: Runtime, by: str) -> list[uuid.UUID]:
    with runtime.session() as session:
        return list(
            session.scalars(
                select(Contact.id).where(
                    Contact.claimed_by == by, Contact.state == ContactState.DELETING
                )
            )
        )


def _erase_customer(runtime: Runtime, customer_id: uuid.UUID) -> None:
    """The identifiers (and their blind indexes) and the tickets that concern only them."""
    with runtime.session() as session:
        customer = session.get(Customer, customer_id, with_for_update=True)
        if customer is None:
            return
        others = (
            (Contact.ticket_id == Ticket.id)
            & (Contact.state != ContactState.DELETED)
            & ((Contact.customer_id.is_(None)) | (Contact.customer_id != customer_id))
        )
        session.execute(
            delete(Ticket).where(Ticket.customer_id == customer_id, ~exists().where(others))
        )
        session.delete(customer)  # identifiers and name tokens go with it
        session.commit()


def _certify(
    runtime: Runtime, case_id: uuid.UUID, withheld: list[Withheld], actor: Actor
) -> ErasureResult:
    now = runtime.clock.now()
    with runtime.session() as session:
        case = session.get_one(PrivacyCase, case_id)
        erased = session.execute(
            select(Contact.id, Contact.channel)
            .where(Contact.claimed_by == claimant(case_id), Contact.state == ContactState.DELETED)
            .order_by(Contact.id)
        )
        document = {
            "format": CERTIFICATE_FORMAT,
            "case": str(case.id),
            "request_received": case.received_at.isoformat(),
            "issued_at": now.isoformat(),
            "erased_contacts": [{"id": str(row[0]), "channel": row[1]} for row in erased],
            "identifiers_erased": case.customer_id is None or not withheld,
            "withheld": [
                {
                    "contact": str(w.contact_id),
                    "channel": w.channel,
                    "hold": str(w.hold_id) if w.hold_id else None,
                    "reason": w.reason,
                    "until": w.until.isoformat() if w.until else _open_ended(w),
                }
                for w in withheld
            ],
            "complete": not withheld,
        }
        text = canonical(document).decode()
        signature, key_id = sign(runtime, text)
        certificate = ErasureCertificate(
            id=uuid.uuid4(),
            case_id=case.id,
            issued_at=now,
            complete=not withheld,
            document=text,
            signature=signature,
            key_id=key_id,
        )
        session.add(certificate)
        if not withheld:
            case.status = CaseStatus.COMPLETED
            case.closed_at = now
            case.closed_by = actor.name
        AuditLog(session, runtime).record(
            actor,
            AuditAction.CASE_ERASE,
            target_type="case",
            target_ids=[case.id, certificate.id],
        )
        session.commit()
        session.refresh(certificate)
        session.expunge(certificate)
    return ErasureResult(certificate, withheld)


def _open_ended(withheld: Withheld) -> str:
    return "until reviewed" if withheld.hold_id is None else "until released"
