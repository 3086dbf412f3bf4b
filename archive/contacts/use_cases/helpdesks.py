"""A helpdesk's conversation (a Zendesk ticket, a Chatwoot conversation) as an import item.

It is stored as a live chat ingest would store the same document: its natural key is the
helpdesk's id of the conversation, so the same export imported again finds what it stored,
and a conversation that grew since (new comments, other bytes) is stored as its own contact
linked to the first (see `sameness`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy.orm import Session

from archive.audit import Actor
from archive.contacts import use_cases
from archive.contacts.chat import parse_transcript
from archive.contacts.ingest import Envelope, Ingested, IngestService
from archive.contacts.ingest_batch import ChatInput
from archive.contacts.sameness import ContactKeys
from archive.customers.bulk import Resolution
from archive.customers.service import IdentifierInput
from archive.runtime import Runtime


@dataclass(frozen=True)
class ConversationItem:
    where: str
    document: bytes
    format: str  # "zendesk" or "chatwoot", as `ingest_chat` names them
    source: str = "import"

    @property
    def envelope(self) -> Envelope:
        return Envelope(source=self.source)

    def check(
        self, service: IngestService
    ) -> tuple[tuple[ContactKeys, bytes], list[IdentifierInput]]:
        transcript = parse_transcript(self.document, source=self.format)  # read once for both
        digest = self.digest
        keys = service.chat_keys_of(self.envelope, transcript, self.format, digest)
        return (keys, digest), service.chat_identifiers(transcript)

    @property
    def digest(self) -> bytes:
        return hashlib.sha256(self.document).digest()

    def chat(self, placed: Resolution | None) -> ChatInput:
        return ChatInput(self.envelope, self.document, self.format, placed)

    def store(
        self, session: Session, runtime: Runtime, actor: Actor, placed: Resolution | None
    ) -> Ingested:
        return use_cases.ingest_chat(
            session,
            runtime,
            actor,
            self.envelope,
            self.document,
            source=self.format,
            resend_recorded=False,
            placed=placed,
        )
