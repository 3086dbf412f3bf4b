"""Contacts with known words, stored as ingest stores them, for the search tests."""

from __future__ import annotations

from datetime import UTC, datetime

from archive.contacts.ingest import Envelope, IngestService
from archive.contacts.models import Contact
from archive.runtime import Runtime
from archive.testing.builders import ingest_chat, sample_email

STARTED = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def chat(
    runtime: Runtime,
    *texts: str,
    email: str = "aino.virtanen@example.fi",
    started: datetime = STARTED,
) -> Contact:
    """A chat in which the customer with `email` says each of `texts`, one message each."""
    return ingest_chat(runtime, *texts, email=email, started=started).contact


def email(runtime: Runtime, subject: str, body: str) -> Contact:
    """Aino Virtanen's e-mail with this subject and text body."""
    with runtime.session() as session:
        raw = sample_email(subject, body)
        return IngestService(session, runtime).ingest_email(Envelope(), raw).contact
