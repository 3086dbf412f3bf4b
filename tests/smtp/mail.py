"""Talking to the SMTP endpoint, and what a test reads back from the archive."""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from archive.audit.models import AuditRecord
from archive.contacts.details import open_details
from archive.contacts.models import Channel, Contact, ObjectRole
from archive.contacts.objects import read_object
from archive.runtime import Runtime

# The connectors' counts of a test's endpoint are written this often (seconds).
COUNT_EVERY = 0.1
LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class Archived:
    raw: bytes
    details: dict[str, Any]
    source: str


Serve = Callable[..., int]


def connect(port: int) -> smtplib.SMTP:
    connection = smtplib.SMTP(LOOPBACK, port, timeout=30)
    connection.ehlo("mta.example.fi")
    return connection


def archived(runtime: Runtime) -> list[Archived]:
    """Every e-mail in the archive: its stored bytes, details and source, oldest first."""
    found = []
    with runtime.session() as session:
        contacts = session.scalars(
            select(Contact).where(Contact.channel == Channel.EMAIL).order_by(Contact.created_at)
        ).all()
        for contact in contacts:
            (original,) = [o for o in contact.objects if o.role == ObjectRole.ORIGINAL]
            raw = b"".join(read_object(runtime, original))
            found.append(Archived(raw, open_details(runtime, contact), contact.source))
    return found


def creators(runtime: Runtime) -> list[tuple[str, str | None, str | None]]:
    """(actor, role, source address) of every contact:create record."""
    with runtime.session() as session:
        records = session.scalars(
            select(AuditRecord).where(AuditRecord.action == "contact:create")
        ).all()
        return [(r.actor, r.role, r.source_address) for r in records]
