"""Small synthetic exports for tests and benchmarks: recordings with a manifest, and Zendesk
and Chatwoot API pages."""

from __future__ import annotations

import io
import random
import wave
from pathlib import Path
from typing import Any

MANIFEST_HEADER = "file,start,direction,caller,callee,agent,ticket\n"


def wav(seed: int, seconds: float = 0.2) -> bytes:
    """A short 8 kHz, 16-bit mono recording whose samples differ with `seed`."""
    rng = random.Random(seed)  # noqa: S311 - repeatable test audio, not a secret
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(rng.randbytes(int(8000 * seconds) * 2))
    return buffer.getvalue()


def recordings_folder(root: Path, count: int, seconds: float = 0.2) -> Path:
    """`root/export` holding `2024/05/call-N.wav` for N below `count`."""
    folder = root / "export"
    (folder / "2024" / "05").mkdir(parents=True, exist_ok=True)
    for n in range(count):
        (folder / "2024" / "05" / f"call-{n}.wav").write_bytes(wav(n, seconds))
    return folder


def manifest_rows(count: int, *, distinct_callers: bool = False) -> str:
    """CSV rows (no header) for the recordings of `recordings_folder`: inbound calls, every
    other one from the same caller unless `distinct_callers`."""
    rows = []
    for n in range(count):
        shared = n % 2 and not distinct_callers
        caller = "+358 40 712 3456" if shared else f"+358 50 {n // 10000:03d} {n % 10000:04d}"
        rows.append(
            f"2024/05/call-{n}.wav,2024-05-0{1 + n % 9}T09:15:00+03:00,inbound,"
            f"{caller},+358 9 4245 100,Anna Lindqvist,ZD-{1000 + n}"
        )
    return "\n".join(rows) + "\n"


AGENT = {"id": 1, "name": "Anna Lindqvist", "email": "anna@helpdesk.example", "role": "agent"}


def zendesk_pages(count: int, *, first: int = 1000) -> tuple[dict[str, Any], dict[str, Any]]:
    """A ticket page (with users side-loaded) and a ticket-event page (with comment events)
    of Zendesk's incremental export: `count` tickets, each a customer's question and the
    agent's answer."""
    users: list[dict[str, Any]] = [AGENT]
    tickets = []
    events = []
    for n in range(count):
        # The customer is numbered by the ticket, so exports with other tickets name others.
        ticket_id = first + n
        customer_id = 10_000_000 + ticket_id
        users.append(
            {
                "id": customer_id,
                "name": f"Asiakas {ticket_id}",
                "email": f"asiakas{ticket_id}@example.fi",
                "phone": None,
                "role": "end-user",
            }
        )
        tickets.append({"id": ticket_id, "requester_id": customer_id, "assignee_id": 1})
        for offset, (author, text) in enumerate(
            [(customer_id, f"Laskuni {ticket_id} on väärin."), (1, "Korjaamme sen, kiitos!")]
        ):
            events.append(
                {
                    "id": ticket_id * 10 + offset,
                    "ticket_id": ticket_id,
                    "created_at": f"2024-05-01T09:{offset:02d}:00Z",
                    "event_type": "Audit",
                    "child_events": [
                        {
                            "id": ticket_id * 100 + offset,
                            "event_type": "Comment",
                            "author_id": author,
                            "body": text,
                            "public": True,
                            "attachments": [],
                        }
                    ],
                }
            )
    ticket_page = {"tickets": tickets, "users": users, "end_of_stream": True}
    return ticket_page, {"ticket_events": events, "end_of_stream": True}


def chatwoot_pages(count: int, *, first: int = 1) -> list[dict[str, Any]]:
    """One messages page of Chatwoot's API per conversation, and a contacts page that gives
    each contact's phone number (the conversation's own copy of the contact lacks it)."""
    pages: list[dict[str, Any]] = []
    contacts = []
    for n in range(count):
        conversation_id = first + n
        contact_id = 500 + conversation_id
        name, email = f"Asiakas {conversation_id}", f"chat{conversation_id}@example.fi"
        contact = {"id": contact_id, "name": name, "email": email}
        contacts.append({**contact, "phone_number": f"+35840{1000000 + conversation_id}"})
        messages = [
            {
                "id": conversation_id * 10,
                "conversation_id": conversation_id,
                "message_type": 0,
                "content": "Hei, tilaukseni ei ole tullut.",
                "created_at": 1714554000,
                "sender": {**contact, "type": "contact"},
            },
            {
                "id": conversation_id * 10 + 1,
                "conversation_id": conversation_id,
                "message_type": 1,
                "content": "Tarkistan asian.",
                "created_at": 1714554060,
                "sender": {"id": 7, "name": "Anna Lindqvist", "type": "user"},
            },
        ]
        meta = {"contact": contact, "assignee": {"id": 7, "name": "Anna Lindqvist"}}
        pages.append({"meta": meta, "payload": messages})
    pages.append({"meta": {"count": count}, "payload": contacts})
    return pages
