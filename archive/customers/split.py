"""Splitting a customer, merge's inverse: contacts that turned out to be another person's.

The privacy officer moves chosen contacts, and the identifiers they brought, from one customer to
a new or an existing one:
- an identifier only the moved contacts carried moves with them; one that staying contacts
  carried too is copied when it may be shared (e-mail, phone, name, address), and stops the
  split when it is an identity code (a code names one person: its contacts stay together);
- contact holds name their contacts and follow them; a customer hold that kept a moved contact
  keeps it still, through a contacts hold placed for it with the same reason, reference and end;
- a ticket all of whose contacts moved follows them;
- open identity reviews of the moved contacts are resolved by the split.
The caller audits and commits, then destroys the source's export bundles, which were built
with the moved contacts in them (`privacy.exports.destroy_for_customer`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from archive.contacts.models import Contact, ContactState
from archive.crypto.fields import decrypt_field
from archive.customers.identifiers import IdentifierKind
from archive.customers.models import ContactIdentifier, Customer, IdentityReview, Resolution
from archive.customers.service import CustomerService, IdentifierInput
from archive.errors import Conflict, InvalidInput, NotFound
from archive.holds.coverage import in_range
from archive.holds.models import Hold, HoldContact, HoldScope, HoldState
from archive.keys.rows import open_key
from archive.runtime import Runtime
from archive.tickets.models import Ticket

MAX_CONTACTS = 1000
Key = tuple[str, bytes]  # (kind, blind index)


@dataclass(frozen=True)
class Split:
    source: Customer
    target: Customer
    contacts: list[uuid.UUID]
    identifiers_moved: int
    identifiers_copied: int
    holds: list[uuid.UUID]  # contacts holds placed to keep moved contacts covered
    tickets: list[uuid.UUID]  # tickets that followed their contacts


def split(
    session: Session,
    runtime: Runtime,
    source: Customer,
    contact_ids: Sequence[uuid.UUID],
    into: Customer | None,
    *,
    actor: str,
    resolution: Resolution | None = None,
) -> Split:
    """Move `contact_ids` of `source` to `into` (None: a new customer), as described above."""
    ids = list(dict.fromkeys(contact_ids))
    if not ids:
        raise InvalidInput("contacts: name at least one contact", field="contacts")
    if len(ids) > MAX_CONTACTS:
        raise InvalidInput(f"contacts: at most {MAX_CONTACTS} at a time", field="contacts")
    if into is not None and into.id == source.id:
        raise InvalidInput("into: a customer cannot be split into itself", field="into")
    moving = _moving(session, source, ids)
    values = brought_by(session, runtime, ids)
    move, copy = _plan(session, source, ids, values)
    customers = CustomerService(session, runtime)
    target = into if into is not None else customers.create()
    _refuse_second_code(target, [key for key in (*move, *copy) if _is_code(key)])
    # A moved identity code leaves the source before the target can claim it.
    source.identifiers = [
        row for row in source.identifiers if (row.kind, row.blind_index) not in set(move)
    ]
    session.flush()
    customers.add_identifiers(
        target, [IdentifierInput(IdentifierKind(key[0]), values[key]) for key in (*move, *copy)]
    )
    session.execute(update(Contact).where(Contact.id.in_(ids)).values(customer_id=target.id))
    now = runtime.clock.now()
    holds = _keep_covered(session, source, moving, actor=actor, now=now)
    tickets = _tickets_follow(session, source, target, moving)
    kind = resolution or (Resolution.MOVED if into is not None else Resolution.SPLIT)
    session.execute(
        update(IdentityReview)
        .where(IdentityReview.contact_id.in_(ids), IdentityReview.resolved_at.is_(None))
        .values(resolved_at=now, resolved_by=actor, resolution=str(kind))
    )
    source.updated_at = target.updated_at = now
    session.flush()
    return Split(source, target, ids, len(move), len(copy), holds, tickets)


def _moving(session: Session, source: Customer, ids: list[uuid.UUID]) -> list[Contact]:
    """The contacts to move, locked; each must be a live contact of `source`."""
    found = list(
        session.scalars(
            select(Contact)
            .where(Contact.id.in_(ids), Contact.state == ContactState.ACTIVE)
            .order_by(Contact.id)
            .with_for_update()
        )
    )
    theirs = {c.id for c in found if c.customer_id == source.id}
    stray = [str(i) for i in ids if i not in theirs]
    if stray:
        raise NotFound(
            f"contacts: {', '.join(stray[:5])} {'is' if len(stray) == 1 else 'are'} not "
            f"a contact of customer {source.id}",
            field="contacts",
        )
    return found


def brought_by(session: Session, runtime: Runtime, ids: list[uuid.UUID]) -> dict[Key, str]:
    """Each identifier the moved contacts brought, decrypted under its contact's data key."""
    values: dict[Key, str] = {}
    contacts = {c.id: c for c in session.scalars(select(Contact).where(Contact.id.in_(ids)))}
    keys: dict[uuid.UUID, bytes] = {}
    rows = session.scalars(select(ContactIdentifier).where(ContactIdentifier.contact_id.in_(ids)))
    for row in rows:
        if row.contact_id not in keys:
            keys[row.contact_id] = open_key(contacts[row.contact_id], runtime.keys.keyring)
        values[(row.kind, row.blind_index)] = decrypt_field(
            keys[row.contact_id], row.ciphertext, row.context
        )
    return values


def _plan(
    session: Session, source: Customer, ids: list[uuid.UUID], values: dict[Key, str]
) -> tuple[list[Key], list[Key]]:
    """Which identifiers move to the target and which are copied to it."""
    staying: set[Key] = {
        (row[0], row[1])
        for row in session.execute(
            select(ContactIdentifier.kind, ContactIdentifier.blind_index)
            .join(Contact, Contact.id == ContactIdentifier.contact_id)
            .where(
                Contact.customer_id == source.id,
                Contact.state == ContactState.ACTIVE,
                Contact.id.not_in(ids),
            )
        )
    }
    held = {(row.kind, row.blind_index) for row in source.identifiers}
    move = [key for key in values if key in held and key not in staying]
    copy = [key for key in values if key not in move]
    shared_codes = [key for key in copy if _is_code(key) and key in held]
    if shared_codes:
        raise Conflict(
            "contacts: contacts that stay carry the same identity code as contacts that would "
            "move; a code names one person, so move all of its contacts or none",
            field="contacts",
        )
    return move, copy


def _is_code(key: Key) -> bool:
    return key[0] == IdentifierKind.NATIONAL_ID


def _refuse_second_code(target: Customer, codes: list[Key]) -> None:
    own = {row.blind_index for row in target.identifiers if row.kind == IdentifierKind.NATIONAL_ID}
    if own and any(digest not in own for _, digest in codes):
        raise Conflict(
            "into: that customer has another identity code; a code names one person",
            field="into",
        )


def _keep_covered(
    session: Session, source: Customer, moving: list[Contact], *, actor: str, now: datetime
) -> list[uuid.UUID]:
    """A contacts hold for the moved contacts each of the source's customer holds kept."""
    placed: list[uuid.UUID] = []
    holds = session.scalars(
        select(Hold).where(
            Hold.scope == HoldScope.CUSTOMER,
            Hold.customer_id == source.id,
            Hold.state == HoldState.ACTIVE,
        )
    )
    for hold in holds:
        covered = [c.id for c in moving if in_range(hold, c.started_at)]
        if not covered:
            continue
        copy = Hold(
            id=uuid.uuid4(),
            reason=hold.reason,
            reference=hold.reference,
            scope=HoldScope.CONTACTS,
            state=HoldState.ACTIVE,
            ends_at=hold.ends_at,
            placed_at=now,
            placed_by=actor,
            links=[HoldContact(contact_id=contact_id) for contact_id in covered],
        )
        session.add(copy)
        placed.append(copy.id)
    return placed


def _tickets_follow(
    session: Session, source: Customer, target: Customer, moving: list[Contact]
) -> list[uuid.UUID]:
    """Tickets of the source none of whose live contacts stayed with it."""
    session.flush()
    followed = []
    for ticket_id in sorted({c.ticket_id for c in moving if c.ticket_id is not None}):
        ticket = session.get(Ticket, ticket_id)
        if ticket is None or ticket.customer_id != source.id:
            continue
        stays = session.scalar(
            select(Contact.id)
            .where(
                Contact.ticket_id == ticket_id,
                Contact.customer_id == source.id,
                Contact.state != ContactState.DELETED,
            )
            .limit(1)
        )
        if stays is None:
            ticket.customer_id = target.id
            followed.append(ticket_id)
    return followed
