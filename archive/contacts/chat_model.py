"""The normalised chat transcript, and the field checks every transcript reader shares."""

from __future__ import annotations

import mimetypes
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from urllib.parse import unquote, urlsplit

from archive.errors import InvalidInput

MAX_FILENAME = 200
# Unicode control, format (bidi overrides that disguise extensions) and lone surrogate characters.
UNSAFE_CATEGORIES = {"Cc", "Cf", "Cs"}
JSON_NAMES = {"str": "a string", "int": "an integer", "list": "a list", "dict": "an object"}


class AuthorRole(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    BOT = "bot"
    SYSTEM = "system"


@dataclass(frozen=True)
class Participant:
    id: str
    role: AuthorRole
    name: str | None = None
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class AttachmentRef:
    """A file sent in a chat: its bytes when the transcript carried them, else where it lives."""

    filename: str
    media_type: str
    size: int | None = None
    data: bytes | None = None
    url: str | None = None


@dataclass(frozen=True)
class Message:
    id: str
    at: datetime
    author: str
    text: str
    attachments: tuple[AttachmentRef, ...] = ()


@dataclass(frozen=True)
class Transcript:
    """One conversation; messages are in time order, ties kept in the order they came."""

    external_id: str | None
    source: str
    started_at: datetime
    ended_at: datetime
    participants: tuple[Participant, ...]
    messages: tuple[Message, ...]
    ticket_ref: str | None = None
    agent: str | None = None


def build_transcript(
    *,
    external_id: str | None,
    source: str,
    participants: list[Participant],
    messages: list[Message],
    ticket_ref: str | None = None,
    agent: str | None = None,
    started_at: datetime | None = None,
    ended_at: datetime | None = None,
) -> Transcript:
    """Order messages by time and fill in the start, end and main agent left unsaid."""
    if not messages:
        raise InvalidInput("a chat transcript needs at least one message", field="messages")
    ordered = sorted(messages, key=lambda m: m.at)
    started = started_at or ordered[0].at
    ended = ended_at or ordered[-1].at
    if ended < started:
        raise InvalidInput("ended_at is before started_at", field="ended_at")
    return Transcript(
        external_id=external_id,
        source=source,
        started_at=started,
        ended_at=ended,
        participants=tuple(participants),
        messages=tuple(ordered),
        ticket_ref=ticket_ref,
        agent=agent if agent is not None else main_agent(participants, ordered),
    )


def main_agent(participants: list[Participant], messages: list[Message]) -> str | None:
    """Name of the agent who wrote most; the one who wrote first wins a tie."""
    agents = {p.id: p for p in participants if p.role is AuthorRole.AGENT}
    counts = Counter(m.author for m in messages if m.author in agents)
    if not counts:
        return None
    return agents[counts.most_common(1)[0][0]].name


def safe_filename(name: str) -> str:
    """A file name without directories, control or bidi characters, or leading dots."""
    base = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch) not in UNSAFE_CATEGORIES)
    base = base.strip(" .")
    if len(base) > MAX_FILENAME:
        _, dot, suffix = base.rpartition(".")
        keep = "." + suffix if dot and len(suffix) <= 16 else ""
        base = base[: MAX_FILENAME - len(keep)] + keep
    return base or "attachment"


MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")


def media_type(raw: str, path: str) -> str:
    """`raw` as a lower-case `type/subtype`; anything else is refused, whichever format said it."""
    value = raw.strip().lower()
    if not MEDIA_TYPE.fullmatch(value):
        raise InvalidInput(f"{path} is not a media type", field=path)
    return value


def guess_media_type(filename: str) -> str:
    return mimetypes.guess_type(filename, strict=False)[0] or "application/octet-stream"


def filename_from_url(url: str, fallback: str) -> str:
    return safe_filename(unquote(urlsplit(url).path.rsplit("/", 1)[-1]) or fallback)


def field(doc: Mapping[str, Any], key: str, kind: type | tuple[type, ...], path: str) -> Any:
    """A required value of the given JSON type; errors name its path, e.g. messages[3].at."""
    value = optional_field(doc, key, kind, path)
    if value is None:
        raise InvalidInput(f"{path} is required", field=path)
    return value


def optional_field(
    doc: Mapping[str, Any], key: str, kind: type | tuple[type, ...], path: str
) -> Any:
    value = doc.get(key)
    if value is None:
        return None
    kinds = kind if isinstance(kind, tuple) else (kind,)
    # bool is an int to Python, but never a valid id, size or timestamp in a transcript.
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        names = " or ".join(JSON_NAMES.get(k.__name__, k.__name__) for k in kinds)
        raise InvalidInput(f"{path} must be {names}", field=path)
    # JSON's \ud800 escapes decode to lone surrogates, which no UTF-8 store can hold.
    if isinstance(value, str) and not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidInput(f"{path} is not valid Unicode text", field=path) from None
    return value


def records(doc: Mapping[str, Any], key: str, path: str) -> list[Mapping[str, Any]]:
    """A list of JSON objects; absent means empty."""
    items: list[Any] = optional_field(doc, key, list, path) or []
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise InvalidInput(f"{path}[{index}] must be an object", field=f"{path}[{index}]")
    return items


def optional_record(doc: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any]:
    """A JSON object; absent means empty."""
    value: Mapping[str, Any] = optional_field(doc, key, dict, path) or {}
    return value


def timestamp(value: Any, path: str) -> datetime:
    """An ISO 8601 time with a UTC offset, converted to UTC; a time without one is ambiguous."""
    if not isinstance(value, str):
        raise InvalidInput(f"{path} must be an ISO 8601 time string", field=path)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{path} is not an ISO 8601 time: {value[:40]!r}", field=path) from None
    if parsed.utcoffset() is None:
        raise InvalidInput(f"{path} has no UTC offset", field=path)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise InvalidInput(f"{path} is out of range", field=path) from None


def identifier(doc: Mapping[str, Any], key: str, path: str, *, numbers: bool = True) -> str:
    """A non-empty id; helpdesk APIs send numbers, and sometimes strings."""
    value = str(field(doc, key, (int, str) if numbers else str, path))
    if not value:
        raise InvalidInput(f"{path} must not be empty", field=path)
    return value
