"""Which customer a contact belongs to: one person, one customer (invariant 8).

Identifiers differ in strength. A valid identity code names one person. An e-mail address or a
phone number may be shared by a household, a company or a shared mailbox, so it only suggests
a person. The rules, in `decide`:

- A contact carrying an identity code belongs to the customer with that code. Without one, it
  goes to the customer its e-mail and phone name, if that customer has no identity code of its
  own (the same record, now identified); otherwise to a new customer. Its e-mail or phone never
  gives another customer a second identity code.
- A contact without an identity code goes to the one customer its e-mail and phone name, or to
  a new customer when they name none.
- When its e-mail or phone also name another customer with an identity code, or several
  customers, the contact is attached without merging anyone and marked uncertain for the
  privacy team (`IdentityReview`). Attached by a guess (no code, several customers), it adds
  none of its identifiers to the customer until the privacy team confirms it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from archive.crypto.fields import encrypt_field
from archive.customers.identifiers import IdentifierKind
from archive.customers.models import (
    AttachedBy,
    ContactIdentifier,
    Customer,
    IdentityReview,
    Uncertainty,
)

#: Identifiers that suggest a person without naming one: they may be shared.
SHARED_KINDS = (IdentifierKind.EMAIL, IdentifierKind.PHONE)


@dataclass(frozen=True)
class Matches:
    """What a contact's identifiers find among the stored customers."""

    code_owner: uuid.UUID | None  # the customer holding the contact's identity code
    named: Sequence[uuid.UUID]  # customers its e-mail and phone name, most matches first
    coded: frozenset[uuid.UUID]  # which customers among those hold an identity code
    # (kind, blind index) of the contact's identifiers some customer held when looked up.
    owned: frozenset[tuple[str, bytes]] = frozenset()


@dataclass(frozen=True)
class Decision:
    customer_id: uuid.UUID | None  # None: a new customer
    uncertain: Uncertainty | None
    candidates: tuple[uuid.UUID, ...]  # the other customers its e-mail and phone name
    adds_identifiers: bool  # whether the contact's identifiers join the customer now
    by_code: bool  # its identity code chose the customer: certain whatever else matched


def decide(*, has_code: bool, matches: Matches) -> Decision:
    """The customer a contact goes to, and whether that is certain (the rules above)."""
    named = list(matches.named)
    if has_code:
        if matches.code_owner is not None:
            chosen: uuid.UUID | None = matches.code_owner
        elif len(named) == 1 and named[0] not in matches.coded:
            chosen = named[0]
        else:
            chosen = None
        others = tuple(n for n in named if n != chosen)
        if any(o in matches.coded for o in others):
            reason: Uncertainty | None = Uncertainty.OTHER_IDENTITY_CODE
        else:
            reason = Uncertainty.SEVERAL_CUSTOMERS if others else None
        # The code is certain whatever else is: the customer takes what the contact carried.
        return Decision(chosen, reason, others, adds_identifiers=True, by_code=True)
    if len(named) <= 1:
        return Decision(named[0] if named else None, None, (), True, by_code=False)
    return Decision(named[0], Uncertainty.SEVERAL_CUSTOMERS, tuple(named[1:]), False, False)


@dataclass(frozen=True)
class Attachment:
    """The customer ingest attached a contact to, and what the contact brought."""

    customer: Customer
    uncertain: Uncertainty | None
    candidates: tuple[uuid.UUID, ...]
    by_code: bool
    brought: tuple[Brought, ...]

    @property
    def customer_id(self) -> uuid.UUID:
        return self.customer.id


class Placement(Protocol):
    """Where a contact was placed: an `Attachment`, or one placed in bulk (`bulk.Resolution`)."""

    @property
    def customer_id(self) -> uuid.UUID: ...
    @property
    def uncertain(self) -> Uncertainty | None: ...
    @property
    def candidates(self) -> tuple[uuid.UUID, ...]: ...
    @property
    def by_code(self) -> bool: ...
    @property
    def brought(self) -> tuple[Brought, ...]: ...


@dataclass(frozen=True)
class Brought:
    """An identifier a contact carried, normalised: its kind, blind index and value."""

    kind: str
    blind_index: bytes
    value: str


def identity_rows(
    contact_id: uuid.UUID, attachment: Placement, now: datetime, data_key: bytes
) -> list[ContactIdentifier | IdentityReview]:
    """The rows that remember what the contact brought (sealed under the contact's own data
    key), and its review if its customer is uncertain."""
    rows: list[ContactIdentifier | IdentityReview] = []
    for item in {(b.kind, b.blind_index): b for b in attachment.brought}.values():
        row = ContactIdentifier(contact_id=contact_id, kind=item.kind, blind_index=item.blind_index)
        row.ciphertext = encrypt_field(data_key, item.value, row.context)
        rows.append(row)
    if attachment.uncertain is not None:
        rows.append(
            IdentityReview(
                id=uuid.uuid4(),
                contact_id=contact_id,
                reason=str(attachment.uncertain),
                attached_by=AttachedBy.IDENTITY_CODE
                if attachment.by_code
                else AttachedBy.EMAIL_OR_PHONE,
                candidates=json.dumps([str(c) for c in attachment.candidates]),
                opened_at=now,
            )
        )
    return rows
