"""One contact's page: a chat as a conversation, an e-mail with its parts, a call's player
with its transcript.

The pages read through the same use cases as the contacts API (`archive.contacts.use_cases`),
so a read from a page leaves the same records as the same read through the API. Downloads and
the recording itself are the API's own content routes, which the session cookie opens.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get
from litestar.params import FromPath

from archive.access.guards import requires
from archive.access.permissions import Permission
from archive.api.deps import RuntimeDep, SessionDep
from archive.api.trail import actor_of
from archive.contacts import use_cases
from archive.contacts.schemas import EmailOut
from archive.web.customer_names import labels
from archive.web.pages import render

AnyRequest = Request[Any, Any, Any]

# The e-mail's HTML is sanitised already; this is the second wall. The frame's document gets a
# unique opaque origin and may run nothing, load nothing from anywhere, and be framed only by
# the archive's own pages (the rest of the API may not be framed at all).
FRAME_CSP = (
    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"
)
FRAME_HEADERS = {
    "Content-Security-Policy": FRAME_CSP,
    "X-Frame-Options": "SAMEORIGIN",
    "Cache-Control": "private, no-store",
}


def purpose_given(request: AnyRequest) -> str:
    return (request.query_params.get("purpose") or "").strip()


def with_purpose(path: str, purpose: str, **query: str) -> str:
    """A link that carries the purpose along, so every read it leads to records it too."""
    if purpose:
        query["purpose"] = purpose
    return f"{path}?{urlencode(query)}" if query else path


class ContactPages(Controller):
    path = "/contacts"

    @get(
        "/{contact_id:uuid}",
        opt=requires(Permission.CONTACTS_CONTENT_READ),
        sync_to_thread=True,
    )
    def show(
        self,
        request: AnyRequest,
        contact_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> Any:
        purpose = purpose_given(request)
        actor = actor_of(request, Permission.CONTACTS_CONTENT_READ, purpose=purpose)
        opened = use_cases.open_contact(session, runtime, actor, contact_id)
        if isinstance(opened, use_cases.PurposeAsked):
            # Asked before anything is read; what was typed is not shown back, as it may name
            # the person (and it has left the address bar with this answer).
            status = 422 if opened.error else 200
            return render(
                request, "purpose.html", status_code=status, contact=opened, error=opened.error
            )
        shown = opened.contact
        names = labels(opened.customers)
        context: dict[str, Any] = {
            "contact": shown,
            "purpose": purpose,
            "link": with_purpose,
            "customer_name": names.get(shown.customer_id) if shown.customer_id else None,
            "now": runtime.clock.now(),
            "lines": [],
        }
        if opened.transcript is not None and shown.channel == "call":
            # What the telephony system transcribed, beside the player that it follows.
            context["lines"] = opened.transcript.get("segments", [])
        elif opened.transcript is not None:
            context["chat"] = _conversation(opened.transcript, shown.details)
        if opened.email is not None:
            context["email"] = opened.email
            context["envelope"] = envelope_of(shown.details, opened.email)
        return render(request, f"{shown.channel}.html", **context)

    @get(
        "/{contact_id:uuid}/email.html",
        opt=requires(Permission.CONTACTS_CONTENT_READ),
        sync_to_thread=True,
    )
    def email_frame(
        self,
        request: AnyRequest,
        contact_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> Response[str]:
        """The e-mail's sanitised HTML part alone, for the sandboxed frame of the e-mail page."""
        actor = actor_of(request, Permission.CONTACTS_CONTENT_READ, purpose=purpose_given(request))
        html = use_cases.read_email(session, runtime, actor, contact_id).html or ""
        document = f'<!doctype html><meta charset="utf-8"><base target="_blank">{html}'
        return Response(document, media_type="text/html", headers=FRAME_HEADERS)


def envelope_of(details: dict[str, Any], email: EmailOut) -> dict[str, Any] | None:
    """The SMTP envelope a journaling server handed the message over with, each recipient
    marked when the message's own To and Cc do not name it: a Bcc recipient, or a list's."""
    envelope = details.get("envelope")
    if not isinstance(envelope, dict):
        return None
    named = {(a.get("email") or "").lower() for a in [*email.to, *email.cc]}
    recipients = [str(r) for r in envelope.get("rcpt_to") or []]
    return {
        "mail_from": envelope.get("mail_from") or "<>",
        "recipients": [(r, r.lower() not in named) for r in recipients],
    }


def _conversation(transcript: dict[str, Any], details: dict[str, Any]) -> dict[str, Any]:
    """The transcript's messages with their authors' side (customer, agent, bot) and files."""
    people = {p["id"]: p for p in transcript.get("participants", [])}
    files: dict[str, list[dict[str, Any]]] = {}
    for attachment in details.get("attachments", []):
        files.setdefault(str(attachment.get("message")), []).append(attachment)
    messages = []
    for message in transcript.get("messages", []):
        author = people.get(message.get("author"), {})
        messages.append(
            {
                "at": message.get("at"),
                "text": message.get("text", ""),
                "role": author.get("role", "system"),
                "name": author.get("name") or author.get("role", ""),
                "attachments": files.get(str(message.get("id")), []),
            }
        )
    return {"messages": messages, "participants": list(people.values())}
