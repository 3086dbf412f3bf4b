"""A recording of a manifest as an import item: known by its file's bytes, stored as a live call.

A row's natural key is its `external_id` when the manifest gives one (Amazon Connect's
contact id, a PBX's call id), else the SHA-256 of the file, as `archive ingest` keys the files
it is given: re-importing a recording finds the call it stored without streaming it again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy.orm import Session

from archive.audit import Actor
from archive.contacts import use_cases
from archive.contacts.ingest import CallParties, Envelope, Ingested, IngestService
from archive.contacts.ingest_batch import ChatInput
from archive.contacts.manifest import ManifestRow
from archive.contacts.sameness import ContactKeys
from archive.contacts.transcripts import VTT, SentTranscript, media_type_of
from archive.customers.bulk import Resolution
from archive.customers.service import IdentifierInput
from archive.errors import InvalidInput
from archive.runtime import Runtime

CHUNK = 1 << 20


@dataclass
class RecordingItem:
    row: ManifestRow
    source: str = "import"

    @property
    def where(self) -> str:
        return f"line {self.row.line} ({self.row.file[:80]})"

    @cached_property
    def digest(self) -> bytes:
        digest = hashlib.sha256()
        with self.row.path.open("rb") as file:
            while chunk := file.read(CHUNK):
                digest.update(chunk)
        return digest.digest()

    @property
    def envelope(self) -> Envelope:
        return Envelope(
            direction=self.row.direction,
            agent=self.row.agent,
            ticket=self.row.ticket,
            external_id=self.row.external_id or f"file-sha256:{self.digest.hex()}",
            started_at=self.row.started_at,
            source=self.source,
        )

    @property
    def parties(self) -> CallParties:
        return CallParties(
            caller=self.row.caller, callee=self.row.callee, filename=self.row.path.name
        )

    def check(
        self, service: IngestService
    ) -> tuple[tuple[ContactKeys, bytes | None], list[IdentifierInput]]:
        identifiers = service.call_identifiers(self.envelope, self.parties)
        # Keyed by the manifest's id, a recording is read only if a call is stored under it:
        # a first import reads each file once, as it stores it.
        digest = None if self.row.external_id else self.digest
        return (service.call_keys(self.envelope), digest), identifiers

    def chat(self, placed: Resolution | None) -> ChatInput | None:
        return None  # a recording streams for long: it holds no batch's transaction open

    def store(
        self, session: Session, runtime: Runtime, actor: Actor, placed: Resolution | None
    ) -> Ingested:
        return use_cases.ingest_call(
            session,
            runtime,
            actor,
            self.envelope,
            self.parties,
            self._chunks(),
            placed=placed,
            transcript=self._transcript(runtime.settings.max_message_bytes),
        )

    def _transcript(self, limit: int) -> SentTranscript | None:
        path = self.row.transcript
        if path is None:
            return None
        if path.stat().st_size > limit:
            raise InvalidInput(f"transcript: larger than the limit of {limit} bytes")
        data = path.read_bytes()
        return SentTranscript(
            data, VTT if path.suffix.lower() == ".vtt" else media_type_of(None, data)
        )

    def _chunks(self) -> Iterator[bytes]:
        with self.row.path.open("rb") as file:
            while chunk := file.read(CHUNK):
                yield chunk
