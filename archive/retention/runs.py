"""Deletion records: the runs the expiry sweep leaves, and the tombstones that name each one."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.contacts.models import Contact, ContactState
from archive.errors import NotFound
from archive.retention.models import DeletionRun


def recent_runs(session: Session, *, since: datetime | None, limit: int) -> list[DeletionRun]:
    """Runs started at `since` or later, newest first."""
    query = select(DeletionRun).order_by(DeletionRun.started_at.desc()).limit(limit)
    if since is not None:
        query = query.where(DeletionRun.started_at >= since)
    return list(session.scalars(query))


def get_run(session: Session, run_id: uuid.UUID) -> DeletionRun:
    run = session.get(DeletionRun, run_id)
    if run is None:
        raise NotFound(f"no deletion run {run_id}")
    return run


def every_run(session: Session) -> Iterator[DeletionRun]:
    """Every run, oldest first."""
    yield from session.scalars(select(DeletionRun).order_by(DeletionRun.started_at))


def deleted_by(session: Session, run_id: uuid.UUID) -> list[uuid.UUID]:
    """The tombstones a run left: every contact it deleted."""
    return list(
        session.scalars(
            select(Contact.id)
            .where(Contact.claimed_by == str(run_id), Contact.state == ContactState.DELETED)
            .order_by(Contact.id)
        )
    )
