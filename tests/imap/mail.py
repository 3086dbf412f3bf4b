"""Messages for the mailboxes, and what a test reads back from the archive."""

from __future__ import annotations

from sqlalchemy import func, select

from archive.connectors.activity import report
from archive.contacts.models import Channel, Contact, ObjectRole
from archive.contacts.objects import read_object
from archive.runtime import Runtime


def plain(number: int, tag: str = "plain") -> bytes:
    return (
        f"From: Aino Virtanen <aino.virtanen@example.fi>\r\n"
        f"To: support@example-company.fi\r\n"
        f"Subject: Question {number}\r\n"
        f"Date: Mon, 02 Mar 2026 09:{number % 60:02d}:00 +0200\r\n"
        f"Message-ID: <{tag}-{number}@example.fi>\r\n"
        f"\r\n"
        f"Hello, this is message {number}.\r\n"
    ).encode()


MULTIPART = (
    b"From: Matti Korhonen <matti@example.fi>\r\n"
    b"To: support@example-company.fi\r\n"
    b"Subject: Invoice attached\r\n"
    b"Message-ID: <multipart-1@example.fi>\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="b1"\r\n'
    b"\r\n"
    b"--b1\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"\r\n"
    b"The invoice is attached.\r\n"
    b"--b1\r\n"
    b"Content-Type: application/pdf\r\n"
    b'Content-Disposition: attachment; filename="invoice.pdf"\r\n'
    b"Content-Transfer-Encoding: base64\r\n"
    b"\r\n"
    b"JVBERi0xLjQKJcfsj6IKMSAwIG9iago8PD4+CmVuZG9iagp0cmFpbGVyCjw8Pj4KJSVFT0YK\r\n"
    b"--b1--\r\n"
)

EIGHT_BIT = (
    "From: Sähkö Oy <asiakaspalvelu@sähkö.fi>\r\n"
    "To: support@example-company.fi\r\n"
    "Subject: Käyttöpaikan siirto\r\n"
    "Message-ID: <8bit-1@example.fi>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "\r\n"
    "Hyvää päivää, sähkösopimus siirtyy äidille.\r\n"
).encode()

# No header line at all: not an e-mail, refused for good.
NOT_AN_EMAIL = b"just some words that are not a message\r\n"


def archived(runtime: Runtime) -> list[bytes]:
    """The stored bytes of every e-mail in the archive, oldest first."""
    found = []
    with runtime.session() as session:
        contacts = session.scalars(
            select(Contact).where(Contact.channel == Channel.EMAIL).order_by(Contact.created_at)
        ).all()
        for contact in contacts:
            (original,) = [o for o in contact.objects if o.role == ObjectRole.ORIGINAL]
            found.append(b"".join(read_object(runtime, original)))
    return found


def stored_count(runtime: Runtime) -> int:
    # A read snapshot, which waits for no writer: a session's first statement would queue
    # for SQLite's write lock behind the pass being watched, and see it late.
    with runtime.reading() as session:
        return int(session.scalar(select(func.count()).select_from(Contact)) or 0)


def counted(runtime: Runtime, source: str) -> tuple[int, int, int, int]:
    """(stored, repeated, deferred, refused) the connectors' report counts for `source`."""
    with runtime.session() as session:
        for row in report(session, runtime.clock.now()):
            if row.source == source:
                return row.stored, row.repeated, row.deferred, row.refused
    return 0, 0, 0, 0
