"""The end of a contact as people and jobs ask for it: an expiry sweep now, erasing a customer.

The sweep and erasure work in transactions of their own and record their audit entries as
they always have (named by the actor's name, and erasure by the privacy role), so the trail
reads the same whoever starts them.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from archive.audit import Actor
from archive.lifecycle.erasure import ErasureResult, erase
from archive.lifecycle.journal import Reapplied, reapply
from archive.lifecycle.sweep import SweepReport, sweep
from archive.runtime import Runtime


def run_sweep(runtime: Runtime, actor: Actor, *, dry_run: bool = False) -> SweepReport:
    """One expiry sweep now: delete what is due and not held, lapse holds past their end, and
    continue erasures waiting for holds. `dry_run`: what it would do, changing nothing."""
    return sweep(runtime, actor=actor.name, dry_run=dry_run)


def erase_case(
    session: Session, runtime: Runtime, actor: Actor, case_id: uuid.UUID
) -> ErasureResult:
    """Erase the customer of an erasure request: every contact no hold keeps and, once nothing
    is withheld, their identifiers; signed in a certificate. Repeatable."""
    session.rollback()  # erasure works in transactions of its own
    return erase(runtime, case_id, actor=actor)


def reapply_deletions(runtime: Runtime, actor: Actor) -> Reapplied:
    """Delete again every contact the store's deletion journal names and the database holds
    active: what a restored older backup would otherwise bring back."""
    return reapply(runtime, actor=actor.name, everything=True)
