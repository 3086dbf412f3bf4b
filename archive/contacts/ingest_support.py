"""Small pieces of ingest that need no database: envelopes, stream peeking, names, summaries."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from archive.contacts.chat import Transcript
from archive.contacts.email import Address
from archive.contacts.models import Contact, Direction
from archive.customers.identifiers import IdentifierKind
from archive.customers.service import IdentifierInput

IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9._:-]{1,96}")
AGENT = re.compile(r"[^\x00-\x1f\x7f]{1,128}")


@dataclass(frozen=True)
class Ingested:
    contact: Contact
    created: bool
    # A stored contact with the same natural key and other bytes, and what that key is called.
    same_key_as: Contact | None = None
    key_name: str | None = None


@dataclass(frozen=True)
class Envelope:
    """What the caller says about a contact beside its content."""

    direction: Direction = Direction.INBOUND
    agent: str | None = None
    ticket: str | None = None
    idempotency_key: str | None = None
    external_id: str | None = None
    started_at: datetime | None = None
    source: str = "api"
    # An e-mail's SMTP envelope, as a journaling mail server sent it: the real recipients
    # (Bcc among them) are here and nowhere in the message.
    mail_from: str | None = None
    rcpt_to: tuple[str, ...] = ()


# Fields that joined the envelope later: left out of a request's text while unset, so that
# contacts stored before them are still recognised when sent again.
_LATER_FIELDS = ("mail_from", "rcpt_to")


@dataclass(frozen=True)
class CallParties:
    caller: str | None = None
    callee: str | None = None
    customer_email: str | None = None
    customer_national_id: str | None = None
    customer_name: str | None = None
    filename: str | None = None


def canonical_request(envelope: Envelope, *parts: Any) -> str:
    """A stable text of everything a request said except its idempotency key."""
    described = asdict(envelope)
    described.pop("idempotency_key")
    for name in _LATER_FIELDS:
        if not described[name]:
            described.pop(name)
    return json.dumps([described, *parts], sort_keys=True, default=str)


def peek(chunks: Iterator[bytes], size: int) -> tuple[bytes, Iterator[bytes]]:
    """The first `size` bytes of a stream, and the whole stream again."""
    head = b""
    taken: list[bytes] = []
    for chunk in chunks:
        taken.append(chunk)
        head += chunk[: size - len(head)]
        if len(head) >= size:
            break

    def again() -> Iterator[bytes]:
        yield from taken
        yield from chunks

    return head, again()


def given(*pairs: tuple[IdentifierKind, str | None, str]) -> list[tuple[IdentifierInput, str]]:
    """Identifiers that were given, each with the request field it came from."""
    return [(IdentifierInput(kind, raw), field) for kind, raw, field in pairs if raw]


def first(addresses: tuple[Address, ...]) -> Address | None:
    return addresses[0] if addresses else None


def address(value: Address | None) -> dict[str, str | None] | None:
    return None if value is None else {"name": value.name, "email": value.email}


def clean_agent(agent: str | None) -> str | None:
    if agent is None:
        return None
    agent = agent.strip()[:128]
    return agent if agent and AGENT.fullmatch(agent) else None


def safe_filename(name: str | None) -> str | None:
    if not name:
        return None
    base = re.split(r"[\\/]", name)[-1]
    base = "".join(ch for ch in base if ch.isprintable())[:255]
    return base or None


def chat_attachments(transcript: Transcript) -> list[dict[str, Any]]:
    """Each attachment of a chat, numbered in order of appearance (the download position)."""
    found = []
    position = 0
    for message in transcript.messages:
        for attachment in message.attachments:
            position += 1
            found.append(
                {
                    "position": position,
                    "message": message.id,
                    "filename": attachment.filename,
                    "media_type": attachment.media_type,
                    "size": attachment.size,
                    "url": attachment.url,
                    "stored": attachment.data is not None,
                }
            )
    return found
