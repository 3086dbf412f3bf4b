"""What the SMTP endpoint answers: each message is stored through the ingest use case, and
`250` is said only once its contact is committed.

A sender that hears `250` may forget the message, so anything but a stored contact is
answered otherwise: `451` when the store, the keys or the database cannot be used now (the
sending server keeps the message queued and tries again, and the same bytes are then found
stored, never stored twice), `552` for a message over the size limit and `554` for one the
archive will never take.
"""

from __future__ import annotations

import asyncio
import uuid

from aiosmtpd.smtp import SMTP, Envelope, Session

from archive.audit import Actor
from archive.connectors.activity import Kind, Outcome, Tally
from archive.connectors.outcomes import outcome_of
from archive.contacts import use_cases
from archive.contacts.ingest import Envelope as ContactEnvelope
from archive.errors import InvalidInput, PayloadTooLarge
from archive.runtime import Runtime
from archive.smtp.access import Network, is_listed, listed_client, peer_address

AUTH_REQUIRED = "530 5.7.0 Authentication required"
UNAVAILABLE = "451 4.3.0 The archive cannot store mail now; try again later"
TOO_LARGE = "552 5.3.4 Message larger than the archive accepts"
UNSTORABLE = "554 5.6.0 The message holds a value the archive cannot store"


def one_line(text: str) -> str:
    """A reason as one printable ASCII line, the way an SMTP reply carries it."""
    cleaned = "".join(ch if " " <= ch <= "~" else " " for ch in text)
    return " ".join(cleaned.split())[:400]


def refusal(error: Exception) -> str:
    """The answer to a message that was not stored (`outcome_of` logs why)."""
    if outcome_of(error) is Outcome.DEFERRED:
        return UNAVAILABLE
    if isinstance(error, PayloadTooLarge):
        return TOO_LARGE
    if isinstance(error, InvalidInput):
        return f"554 5.6.0 {one_line(error.public_detail)}"
    return UNSTORABLE


class JournalHandler:
    """aiosmtpd's handler: checks who sends at MAIL, stores the message at the end of DATA."""

    def __init__(
        self,
        runtime: Runtime,
        allowed: tuple[Network, ...],
        *,
        source: str = "smtp",
        tally: Tally | None = None,
    ) -> None:
        self.runtime = runtime
        self.allowed = allowed
        self.source = source
        # The connectors' counts, written a few seconds at a time (see `Tally`).
        self.tally = tally or Tally(runtime)

    def sender(self, session: Session) -> Actor | None:
        """Who hands the message over: the account logged in, else a listed client."""
        if session.authenticated and isinstance(session.auth_data, Actor):
            return session.auth_data
        address = peer_address(session)
        return listed_client(address) if is_listed(address, self.allowed) else None

    async def handle_MAIL(  # noqa: N802 - aiosmtpd finds its hooks by these names
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        if self.sender(session) is None:
            return AUTH_REQUIRED
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd finds its hooks by these names
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        actor = self.sender(session)
        if actor is None:
            return AUTH_REQUIRED
        raw = envelope.original_content or b""
        described = ContactEnvelope(
            source="smtp",
            mail_from=envelope.mail_from or "",
            rcpt_to=tuple(envelope.rcpt_tos),
        )
        try:
            contact_id, created = await asyncio.to_thread(self.store, actor, described, raw)
        except Exception as error:
            answer = refusal(error)
            # A 4xx is tried again by the sender; a 5xx bounces back to it.
            outcome = Outcome.DEFERRED if answer.startswith("4") else Outcome.REFUSED
            self.tally.count(Kind.SMTP, self.source, outcome, f"{answer} ({type(error).__name__})")
            return answer
        self.tally.count(Kind.SMTP, self.source, Outcome.STORED if created else Outcome.REPEATED)
        said = "archived" if created else "already archived"
        return f"250 2.0.0 {said} as {contact_id}"

    def store(self, actor: Actor, envelope: ContactEnvelope, raw: bytes) -> tuple[uuid.UUID, bool]:
        """Ingest in a worker thread: the database and the store are used synchronously."""
        self.runtime.refresh_keys()
        with self.runtime.session() as session:
            result = use_cases.ingest_email(session, self.runtime, actor, envelope, raw)
            return result.contact.id, result.created
