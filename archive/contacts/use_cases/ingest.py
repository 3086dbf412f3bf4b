"""Storing a call, an e-mail or a chat, and recording who stored it.

The API's ingest routes, `archive ingest` and the demo loader all come through here. The
content is stored and committed by `IngestService` (see its module for the order that keeps
invariant 5); the `contact:create` record follows in a transaction of its own. A retry or a
re-send that finds the stored contact is recorded too: someone sent it again. `archive import`
comes through here too, its chats many to a transaction (`ingest_chats`), each batch's
record committed with its contacts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy.orm import Session

from archive.audit import Actor, AuditAction
from archive.audit.service import AuditLog
from archive.contacts.ingest import CallParties, Envelope, Ingested, IngestService
from archive.contacts.ingest_batch import ChatBatch, ChatInput
from archive.contacts.models import Contact
from archive.contacts.transcripts import SentTranscript, parse_call_transcript
from archive.customers.matching import Placement
from archive.errors import ArchiveError
from archive.observability import metrics
from archive.runtime import Runtime


def ingest_call(
    session: Session,
    runtime: Runtime,
    actor: Actor,
    envelope: Envelope,
    parties: CallParties,
    body: Iterable[bytes],
    *,
    placed: Placement | None = None,
    transcript: SentTranscript | None = None,
) -> Ingested:
    """A recording streamed from `body`, never held whole; `ARCHIVE_MAX_UPLOAD_BYTES` is
    enforced while it streams. `placed`: its customer, placed in bulk by an import.
    `transcript`: the call's transcript as sent, checked before the recording streams and stored
    with it (a call stored already keeps its own: `replace_call_transcript` replaces it)."""
    spoken = None
    if transcript is not None:
        limit = runtime.settings.max_message_bytes
        spoken = parse_call_transcript(
            transcript.body, transcript.media_type, limit=limit, duration_seconds=None
        )
    result = IngestService(session, runtime).ingest_call(
        envelope, parties, body, placed=placed, transcript=spoken
    )
    return _recorded(session, runtime, actor, result, resend_recorded=True)


def stored_call(
    session: Session, runtime: Runtime, envelope: Envelope, digest: bytes
) -> Contact | None:
    """The call already archived with these bytes (SHA-256 `digest`) under the envelope's
    external id, so a console re-run need not send it again: nothing is stored or recorded."""
    return IngestService(session, runtime).stored_call(envelope, digest)


def ingest_email(
    session: Session,
    runtime: Runtime,
    actor: Actor,
    envelope: Envelope,
    raw: bytes,
    *,
    resend_recorded: bool = True,
) -> Ingested:
    """An RFC 5322 message, kept byte for byte. `resend_recorded`: whether a message already
    archived is recorded again (a sender's retry is; the console's re-run skips it)."""
    result = IngestService(session, runtime).ingest_email(envelope, raw)
    return _recorded(session, runtime, actor, result, resend_recorded)


def ingest_chat(
    session: Session,
    runtime: Runtime,
    actor: Actor,
    envelope: Envelope,
    raw: bytes,
    *,
    source: str = "archive",
    resend_recorded: bool = True,
    placed: Placement | None = None,
) -> Ingested:
    """A chat transcript: ours, or Zendesk's or Chatwoot's API shape (`source`)."""
    result = IngestService(session, runtime).ingest_chat(
        envelope, raw, source=source, placed=placed
    )
    return _recorded(session, runtime, actor, result, resend_recorded)


def ingest_chats(
    session: Session, runtime: Runtime, actor: Actor, chats: Sequence[ChatInput]
) -> list[Ingested | ArchiveError]:
    """Many chats in one transaction, for an import: each stored as `ingest_chat` stores it
    (or found stored, which is not recorded again), or why it was refused. Those stored are
    recorded by one `contact:create` record naming them, committed with them.

    If the batch cannot be committed, nothing of it is stored and the error is raised: the
    caller stores the chats one by one (see `ingest_batch`)."""
    batch = ChatBatch(session, runtime)
    try:
        results = batch.store(chats)
        created = [r.contact.id for r in results if isinstance(r, Ingested) and r.created]
        if created:
            AuditLog(session, runtime).record(
                actor, AuditAction.CONTACT_CREATE, target_type="contact", target_ids=created
            )
        session.commit()
    except BaseException:
        batch.discard()
        raise
    for result in results:
        if isinstance(result, Ingested) and result.created:
            metrics.ingested(result.contact.channel, result.contact.size_bytes)
    return results


def _recorded(
    session: Session, runtime: Runtime, actor: Actor, result: Ingested, resend_recorded: bool
) -> Ingested:
    if result.created or resend_recorded:
        AuditLog(session, runtime).record(
            actor,
            AuditAction.CONTACT_CREATE,
            target_type="contact",
            target_ids=[result.contact.id],
        )
    session.commit()
    return result
