"""A Zendesk account's incremental export, gathered into one conversation per ticket.

What is read (Zendesk's Incremental Exports API, pages saved as returned):

- ticket pages, `GET /api/v2/incremental/tickets/cursor.json?start_time=0&include=users`:
  `tickets[]` (`id`, `assignee_id`, `requester_id`) and the side-loaded `users[]` (`id`,
  `name`, `email`, `phone`, `role`);
- ticket event pages, `GET /api/v2/incremental/ticket_events.json?start_time=0` with
  `include=comment_events`: `ticket_events[]` (`ticket_id`, `created_at`, `child_events[]`),
  whose child events of `event_type` "Comment" carry the comment: `id`, `author_id`, `body`,
  `public`, `attachments[]`.

A ticket that appears on several pages (the export repeats a ticket each time it changed) is
read once, as its last version; a comment seen twice is kept once. Each ticket becomes the
document of `GET /api/v2/tickets/{id}/comments.json?include=users` (its ticket, comments in
order, and the users they name), which `chat_imports.read_zendesk` reads as a transcript.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archive.contacts.export_pages import Page, Unreadable, key_of, pages, records
from archive.errors import InvalidInput


@dataclass(frozen=True)
class ZendeskTicket:
    ticket_id: str
    document: bytes  # the comments document, canonical JSON: the same export, the same bytes


@dataclass
class ZendeskExport:
    tickets: list[ZendeskTicket] = field(default_factory=list)
    problems: list[Unreadable] = field(default_factory=list)


@dataclass
class _Gathered:
    tickets: dict[str, dict[str, Any]] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    comments: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    problems: list[Unreadable] = field(default_factory=list)


def read_zendesk_export(export: Path) -> ZendeskExport:
    gathered = _Gathered()
    for page in pages(export):
        if isinstance(page, Unreadable):
            gathered.problems.append(page)
            continue
        if not isinstance(page.body, dict):
            gathered.problems.append(Unreadable(page.where, "a page must be a JSON object"))
            continue
        _read_page(page, gathered)
    result = ZendeskExport(problems=gathered.problems)
    for ticket_id in sorted(gathered.tickets.keys() | gathered.comments.keys(), key=_order):
        ticket = gathered.tickets.get(ticket_id, {"id": ticket_id})
        comments = list(gathered.comments.get(ticket_id, {}).values())
        if not comments:
            result.problems.append(
                Unreadable(
                    f"ticket {ticket_id}",
                    "no comments in the export: export the ticket events with "
                    "include=comment_events too",
                )
            )
            continue
        comments.sort(key=lambda c: (str(c.get("created_at")), _order(str(c.get("id")))))
        named = {str(c.get("author_id")) for c in comments}
        named |= {str(ticket.get("assignee_id")), str(ticket.get("requester_id"))}
        document = {
            "ticket": {k: ticket.get(k) for k in ("id", "assignee_id", "requester_id")},
            "comments": comments,
            "users": [gathered.users[u] for u in sorted(named & gathered.users.keys())],
        }
        data = json.dumps(document, sort_keys=True, ensure_ascii=False).encode()
        result.tickets.append(ZendeskTicket(ticket_id, data))
    return result


def _read_page(page: Page, gathered: _Gathered) -> None:
    for kind in ("tickets", "users", "ticket_events"):
        for found in records(page, kind):
            if isinstance(found, Unreadable):
                gathered.problems.append(found)
                continue
            where, item = found
            try:
                if kind == "tickets":
                    gathered.tickets[key_of(item, "id")] = item
                elif kind == "users":
                    gathered.users[key_of(item, "id")] = item
                else:
                    _read_event(item, gathered)
            except InvalidInput as error:
                gathered.problems.append(Unreadable(where, error.detail))


def _read_event(event: dict[str, Any], gathered: _Gathered) -> None:
    children = event.get("child_events") or []
    if not isinstance(children, list):
        raise InvalidInput("child_events must be a list")
    comments = [c for c in children if isinstance(c, dict) and c.get("event_type") == "Comment"]
    if not comments:
        return
    ticket_id = key_of(event, "ticket_id")
    at = event.get("created_at")
    for child in comments:
        comment_id = key_of(child, "id", "child_events: ")
        comment = {
            "id": child.get("id"),
            "author_id": child.get("author_id"),
            "created_at": child.get("created_at", at),
            "body": child.get("body"),
            "public": child.get("public"),
            "attachments": child.get("attachments") or [],
        }
        gathered.comments.setdefault(ticket_id, {})[comment_id] = comment


def _order(key: str) -> tuple[int, str]:
    """Numeric ids in number order, others after them."""
    return (0, f"{int(key):020d}") if key.isdigit() else (1, key)
