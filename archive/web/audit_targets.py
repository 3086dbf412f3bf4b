"""The audit trail's targets in words an auditor may see, each linked to what the reader can open.

A record names its targets by id only (invariant 6: ids, never content or identifiers), so the
page looks the ids up, and shows nothing an auditor could not already find on their own pages:

- a user: the username (actors are shown by username already);
- a deletion run: its day, linked to its deletion record;
- a deleted contact: linked to the deletion record that lists its tombstone;
- anything else (a live contact, a customer, a case, a hold, a ticket): the first characters
  of its id, linked to the trail narrowed to that id, which is what an auditor can open of it.
  A customer's name, a ticket's reference or a hold's reference is never looked up: those are
  identifiers or business content the auditor does not see elsewhere either.

The whole id stays in the link's title, so an id copied from elsewhere is still found with the
browser's search, and the export carries the records unchanged.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.access.permissions import Permission
from archive.accounts.models import AccessToken, Approval, User
from archive.contacts.models import Contact, ContactState
from archive.customers.models import Customer
from archive.holds.models import Hold
from archive.privacy.models import PrivacyCase
from archive.retention.models import DeletionRun
from archive.tickets.models import Ticket
from archive.web.formats import day

SHORT_ID = 8
# A page holds at most a few hundred ids; the lookups go in batches this size so that no
# database meets an IN list longer than it takes.
LOOKUP_BATCH = 500


@dataclass(frozen=True)
class TargetView:
    """One target id as the trail page shows it."""

    id: str  # as recorded
    kind: str  # user, contact, deletion_run, ...; "" when the id could be several things
    label: str  # a username, a run's day, or the id's first characters
    href: str | None
    is_code: bool  # the label is (a piece of) an id or a code, shown in monospace
    deleted: bool = False


@dataclass
class _Known:
    usernames: dict[uuid.UUID, str]
    runs: dict[uuid.UUID, str]  # a run's day
    contacts: dict[uuid.UUID, str | None]  # the run that deleted it, or None while it lives
    kinds: dict[uuid.UUID, str] = field(default_factory=dict)  # what another id names


# Ids a record names after its first (a case's customer, a token's owner) are told apart by
# which table holds them; only the id is read, never a column with personal data.
KINDS: tuple[tuple[str, Any], ...] = (
    ("customer", Customer.id),
    ("case", PrivacyCase.id),
    ("hold", Hold.id),
    ("ticket", Ticket.id),
    ("token", AccessToken.id),
    ("approval", Approval.id),
)


def _uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def _batches(ids: list[uuid.UUID]) -> Iterable[list[uuid.UUID]]:
    for start in range(0, len(ids), LOOKUP_BATCH):
        yield ids[start : start + LOOKUP_BATCH]


def _look_up(session: Session, ids: set[uuid.UUID]) -> _Known:
    known = _Known({}, {}, {})
    ordered = sorted(ids)
    for batch in _batches(ordered):
        for user_id, username in session.execute(
            select(User.id, User.username).where(User.id.in_(batch))
        ):
            known.usernames[user_id] = username
        for run_id, started_at in session.execute(
            select(DeletionRun.id, DeletionRun.started_at).where(DeletionRun.id.in_(batch))
        ):
            known.runs[run_id] = day(started_at)
        for contact_id, state, claimed_by in session.execute(
            select(Contact.id, Contact.state, Contact.claimed_by).where(Contact.id.in_(batch))
        ):
            deleted = state == ContactState.DELETED
            known.contacts[contact_id] = (claimed_by or "") if deleted else None
        for kind, column in KINDS:
            for found in session.scalars(select(column).where(column.in_(batch))):
                known.kinds[found] = kind
    return known


def _trail_of(target: str) -> str:
    return "/audit?" + urlencode({"target": target})


def _view(raw: str, declared: str, known: _Known, may: Callable[[Permission], bool]) -> TargetView:
    """`declared`: the record's target type when `raw` is its first id, else ""."""
    key = _uuid(raw)
    if key is None:
        # A permission's name, a route's handler, a policy's version: codes, not ids.
        return TargetView(raw, declared, raw, _trail_of(raw), is_code=True)
    if key in known.usernames:
        return TargetView(raw, "user", known.usernames[key], _trail_of(raw), is_code=False)
    if key in known.runs:
        href = f"/audit/deletions/{key}" if may(Permission.DELETIONS_READ) else _trail_of(raw)
        return TargetView(raw, "deletion_run", known.runs[key], href, is_code=False)
    return TargetView(
        raw,
        "contact" if key in known.contacts else known.kinds.get(key, declared),
        raw[:SHORT_ID],
        _href(key, declared, known, may),
        is_code=True,
        deleted=known.contacts.get(key) is not None,
    )


def _href(key: uuid.UUID, declared: str, known: _Known, may: Callable[[Permission], bool]) -> str:
    """Where an id that is neither a user nor a run leads: what the reader may open of it."""
    if key in known.contacts:
        run = _uuid(known.contacts[key] or "")
        if known.contacts[key] is None and may(Permission.CONTACTS_CONTENT_READ):
            return f"/contacts/{key}"
        if run is not None and run in known.runs and may(Permission.DELETIONS_READ):
            return f"/audit/deletions/{run}#contact-{key}"
    elif declared == "customer" and may(Permission.CONTACTS_LIST):
        return f"/customers/{key}"
    return _trail_of(str(key))


def target_views(
    session: Session, records: list[dict[str, Any]], may: Callable[[Permission], bool]
) -> dict[int, list[TargetView]]:
    """Each record's targets (by record id), looked up in one pass for the whole page."""
    ids = {
        key
        for r in records
        for raw in r.get("target_ids") or ()
        if (key := _uuid(str(raw))) is not None
    }
    # The runs that deleted the page's contacts are looked up too, to link to their records.
    known = _look_up(session, ids)
    runs = {key for v in known.contacts.values() if v and (key := _uuid(v)) is not None}
    if missing := runs - known.runs.keys():
        known.runs.update(_look_up(session, missing).runs)
    return {
        int(r["id"]): [
            _view(str(raw), str(r.get("target_type") or "") if i == 0 else "", known, may)
            for i, raw in enumerate(r.get("target_ids") or ())
        ]
        for r in records
    }
