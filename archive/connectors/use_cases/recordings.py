"""What a pass over a recording folder or bucket shares: who the trail names, storing one
recording through the ingest use case, and whether a failure is for now or for ever."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import structlog

from archive.audit import Actor
from archive.connectors import outcomes
from archive.connectors.activity import Kind, Outcome
from archive.connectors.recordings import Call
from archive.contacts import use_cases
from archive.contacts.ingest_support import Ingested
from archive.runtime import Runtime

log = structlog.get_logger(__name__)

MAX_ACTOR = 150


@dataclass
class PassReport:
    """What one pass did, by outcome; `waiting`: recordings not complete yet (or taken by
    another process); `error`: why the source could not be read, if it could not."""

    stored: int = 0
    repeated: int = 0
    deferred: int = 0
    refused: int = 0
    waiting: int = 0
    error: str | None = None
    refused_names: list[tuple[str, str]] = field(default_factory=list)
    """Each refused recording's name (its path or key) and why, for the console alone: a
    name may hold a caller's number, so it is not logged nor kept in the database."""

    def count(self, outcome: Outcome) -> None:
        setattr(self, outcome.value, getattr(self, outcome.value) + 1)

    def summary(self) -> dict[str, int | str | None]:
        return {
            "stored": self.stored,
            "repeated": self.repeated,
            "deferred": self.deferred,
            "refused": self.refused,
            "waiting": self.waiting,
            "error": self.error,
        }


def watcher(kind: Kind, source: str) -> Actor:
    """The actor the trail names for what a folder or a bucket brought in."""
    name = "".join(ch if ch.isprintable() else "?" for ch in f"{kind.value}:{source}")
    return Actor(name=name[:MAX_ACTOR])


def store(runtime: Runtime, actor: Actor, call: Call, body: Iterable[bytes]) -> Ingested:
    """The recording stored (or found stored: a pass after a kill between the commit and the
    move, or a copy of a recording archived already) through the one ingest use case."""
    with runtime.session() as session:
        return use_cases.ingest_call(session, runtime, actor, call.envelope, call.parties, body)


def outcome_of(error: Exception) -> tuple[Outcome, str]:
    """REFUSED or DEFERRED (the split the SMTP endpoint answers 5xx / 4xx by), and the reason
    the connectors' page shows, which names no file, key or caller."""
    return outcomes.outcome_of(error), outcomes.reason_of(error)


def stored_outcome(result: Ingested) -> Outcome:
    if result.same_key_as is not None:
        # Stored as a contact of its own, linked to the first: the same identity with other
        # bytes (a recording rewritten after it was taken) is kept, never dropped.
        log.warning(
            "recording stored beside another of the same identity",
            contact=str(result.contact.id),
            first=str(result.same_key_as.id),
        )
    return Outcome.STORED if result.created else Outcome.REPEATED
