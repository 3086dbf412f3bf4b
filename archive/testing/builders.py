"""Contacts put in through the service layer, as ingest stores them, from the tests' media."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from archive.contacts.ingest import CallParties, Envelope, Ingested, IngestService
from archive.contacts.models import Direction
from archive.runtime import Runtime

#: The test suite's recordings and files (CC0, see the README there): beside the tests in the
#: source tree, which is where this package is used.
MEDIA = Path(__file__).resolve().parents[2] / "tests" / "media"


def chunks_of(path: Path, size: int = 8192) -> Iterator[bytes]:
    with path.open("rb") as file:
        while chunk := file.read(size):
            yield chunk


def ingest_call(runtime: Runtime, name: str = "speech.mp3", **envelope: object) -> Ingested:
    """Store the media file `name` as an inbound call; `envelope` fills the rest of its Envelope."""
    with runtime.session() as session:
        return IngestService(session, runtime).ingest_call(
            Envelope(direction=Direction.INBOUND, **envelope),  # type: ignore[arg-type]
            CallParties(caller="+358401234567", callee="+358201234567", filename=name),
            chunks_of(MEDIA / name),
        )


def sample_email(subject: str = "Invoice question", body: str = "Hello!") -> bytes:
    """A customer's e-mail with a PDF attached; the same subject and body, the same bytes."""
    message = EmailMessage()
    message["From"] = "Aino Virtanen <aino.virtanen@example.fi>"
    message["To"] = "service@example-company.fi"
    message["Subject"] = subject
    message["Date"] = "Mon, 02 Mar 2026 09:15:00 +0200"
    message["Message-ID"] = f"<{abs(hash(subject + body))}@example.fi>"
    message.set_content(body)
    message.add_attachment(
        b"%PDF-1.4 demo", maintype="application", subtype="pdf", filename="invoice.pdf"
    )
    return message.as_bytes()


def ingest_email(runtime: Runtime, raw: bytes | None = None) -> Ingested:
    with runtime.session() as session:
        return IngestService(session, runtime).ingest_email(Envelope(), raw or sample_email())


def ingest_chat(
    runtime: Runtime,
    *texts: str,
    email: str = "aino.virtanen@example.fi",
    started: datetime | None = None,
) -> Ingested:
    """A chat in which the customer with `email` says each of `texts`, one message each."""
    at = (started or datetime(2026, 3, 2, 8, 0, tzinfo=UTC)).isoformat()
    document = {
        "format": "contact-archive/chat/v1",
        "id": f"chat-{uuid.uuid4()}",
        "started_at": at,
        "participants": [
            {"id": "c1", "role": "customer", "email": email},
            {"id": "a1", "role": "agent", "name": "Agent Smith"},
        ],
        "messages": [
            {"id": str(n), "at": at, "author": "c1", "text": text}
            for n, text in enumerate(texts, 1)
        ],
    }
    with runtime.session() as session:
        return IngestService(session, runtime).ingest_chat(
            Envelope(), json.dumps(document).encode()
        )
