"""Storing a call's transcript sent by the telephony system, and recording who stored it.

`PUT /api/v1/contacts/{id}/transcript` comes through here. The transcript is checked whole,
stored and indexed in place of any before (`archive.contacts.call_transcript`), and the
`contact:transcript:replace` record is committed with it. Sending the same transcript again
changes nothing, and is recorded too: someone sent it again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from archive.access.actors import viewer_for
from archive.audit import Actor, AuditAction
from archive.audit.service import AuditLog
from archive.contacts.call_transcript import CallTranscripts
from archive.holds.legal import sync_legal_holds
from archive.runtime import Runtime


@dataclass(frozen=True)
class TranscriptStored:
    contact_id: uuid.UUID
    segments: int
    changed: bool  # False: the same transcript was stored already


def replace_call_transcript(
    session: Session,
    runtime: Runtime,
    actor: Actor,
    contact_id: uuid.UUID,
    body: bytes,
    media_type: str,
) -> TranscriptStored:
    """The call's transcript from `body` (WebVTT or JSON segments, `media_type`)."""
    transcripts = CallTranscripts(session, runtime, viewer_for(actor))
    replaced = transcripts.replace(contact_id, body, media_type)
    try:
        AuditLog(session, runtime).record(
            actor,
            AuditAction.CONTACT_TRANSCRIPT_REPLACE,
            target_type="contact",
            target_ids=[contact_id],
        )
        session.commit()
    except BaseException:
        session.rollback()
        if replaced.changed:
            transcripts.forget([replaced.obj.storage_key])
        raise
    if replaced.changed:
        transcripts.forget(replaced.replaced)
        # A held call's new object is kept by the store's legal hold like the rest of it.
        sync_legal_holds(runtime, [contact_id])
    return TranscriptStored(contact_id, replaced.segments, replaced.changed)
