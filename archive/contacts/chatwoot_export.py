"""A Chatwoot account's conversations, gathered from its API's pages into one document each.

What is read (Chatwoot's Application API, pages saved as returned):

- message pages, `GET /api/v1/accounts/{a}/conversations/{c}/messages`: `meta.contact`,
  `meta.assignee` and `payload[]`, messages with `id`, `conversation_id`, `message_type`,
  `content`, `created_at`, `sender`, `attachments[]`;
- conversation pages, `GET /api/v1/accounts/{a}/conversations`: `data.payload[]`, each with
  `id`, `meta.sender` (the contact), `meta.assignee` and `messages[]`;
- contact pages, `GET /api/v1/accounts/{a}/contacts`: `payload[]` with `id`, `name`, `email`,
  `phone_number`, which complete a conversation's contact when its own copy lacks them.

A message seen on several pages is kept once. Each conversation becomes one messages document
(`meta` and `payload`), which `chat_imports.read_chatwoot` reads as a transcript.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archive.contacts.export_pages import Page, Unreadable, key_of, pages, records
from archive.errors import InvalidInput

CONTACT_FIELDS = ("id", "name", "email", "phone_number")


@dataclass(frozen=True)
class ChatwootConversation:
    conversation_id: str
    document: bytes


@dataclass
class ChatwootExport:
    conversations: list[ChatwootConversation] = field(default_factory=list)
    problems: list[Unreadable] = field(default_factory=list)


@dataclass
class _Conversation:
    contact: dict[str, Any] | None = None
    assignee: dict[str, Any] | None = None
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class _Gathered:
    conversations: dict[str, _Conversation] = field(default_factory=dict)
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: list[Unreadable] = field(default_factory=list)


def read_chatwoot_export(export: Path) -> ChatwootExport:
    gathered = _Gathered()
    for page in pages(export):
        if isinstance(page, Unreadable):
            gathered.problems.append(page)
        elif not isinstance(page.body, dict):
            gathered.problems.append(Unreadable(page.where, "a page must be a JSON object"))
        else:
            _read_page(page, gathered)
    result = ChatwootExport(problems=gathered.problems)
    for conversation_id in sorted(gathered.conversations, key=_order):
        conversation = gathered.conversations[conversation_id]
        if not conversation.messages:
            result.problems.append(
                Unreadable(f"conversation {conversation_id}", "no messages in the export")
            )
            continue
        contact = conversation.contact
        if contact is not None and contact.get("id") is not None:
            known = gathered.contacts.get(str(contact["id"]), {})
            contact = {**known, **{k: v for k, v in contact.items() if v is not None}}
        meta = {"contact": contact, "assignee": conversation.assignee}
        payload = sorted(
            conversation.messages.values(),
            key=lambda m: (_number(m.get("created_at")), _order(str(m.get("id")))),
        )
        document = {"meta": {k: v for k, v in meta.items() if v is not None}, "payload": payload}
        data = json.dumps(document, sort_keys=True, ensure_ascii=False).encode()
        result.conversations.append(ChatwootConversation(conversation_id, data))
    return result


def _read_page(page: Page, gathered: _Gathered) -> None:
    body = page.body
    data = body.get("data")
    if isinstance(data, dict) and "payload" in data:
        inner = Page(page.where, data)
        for found in records(inner, "payload"):
            _each(found, gathered, _read_conversation)
        return
    meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
    for found in records(page, "payload"):
        if isinstance(found, tuple) and "message_type" not in found[1]:
            _each(found, gathered, _read_contact)
        else:
            _each(found, gathered, lambda item, g: _read_message(item, g, meta))


def _each(
    found: tuple[str, dict[str, Any]] | Unreadable,
    gathered: _Gathered,
    read: Callable[[dict[str, Any], _Gathered], None],
) -> None:
    if isinstance(found, Unreadable):
        gathered.problems.append(found)
        return
    where, item = found
    try:
        read(item, gathered)
    except InvalidInput as error:
        gathered.problems.append(Unreadable(where, error.detail))


def _read_contact(item: dict[str, Any], gathered: _Gathered) -> None:
    contact_id = key_of(item, "id")
    gathered.contacts[contact_id] = {k: item.get(k) for k in CONTACT_FIELDS if k in item}


def _read_conversation(item: dict[str, Any], gathered: _Gathered) -> None:
    conversation_id = key_of(item, "id")
    conversation = gathered.conversations.setdefault(conversation_id, _Conversation())
    meta = item.get("meta")
    if isinstance(meta, dict):
        _people(conversation, meta.get("sender"), meta.get("assignee"))
    messages = item.get("messages") or []
    if not isinstance(messages, list):
        raise InvalidInput("messages must be a list")
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            raise InvalidInput(f"messages[{index}] must be an object")
        message_id = key_of(message, "id", f"messages[{index}].")
        conversation.messages[message_id] = {"conversation_id": item["id"], **message}


def _read_message(item: dict[str, Any], gathered: _Gathered, meta: dict[str, Any]) -> None:
    conversation_id = key_of(item, "conversation_id")
    message_id = key_of(item, "id")
    conversation = gathered.conversations.setdefault(conversation_id, _Conversation())
    _people(conversation, meta.get("contact"), meta.get("assignee"))
    conversation.messages[message_id] = item


def _people(conversation: _Conversation, contact: Any, assignee: Any) -> None:
    if isinstance(contact, dict) and conversation.contact is None:
        conversation.contact = contact
    if isinstance(assignee, dict) and conversation.assignee is None:
        conversation.assignee = assignee


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _order(key: str) -> tuple[int, str]:
    return (0, f"{int(key):020d}") if key.isdigit() else (1, key)
