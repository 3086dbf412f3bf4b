"""One contact's page: a chat as a conversation, an e-mail with its parts, a call's player.

The pages read through `ContactService` and audit through the contacts API's own helper, so
a read from a page leaves the same records as the same read through the API. Downloads and the
recording itself are the API's own content routes, which the session cookie opens.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get
from litestar.params import FromPath
from sqlalchemy.orm import Session

from archive.access.guards import requires
from archive.access.permissions import Permission
from archive.api.deps import RuntimeDep, SessionDep
from archive.api.trail import viewer_of
from archive.audit.models import check_purpose
from archive.contacts.models import Channel, Contact
from archive.contacts.routes import audit_read
from archive.contacts.routes import render as render_contact
from archive.contacts.schemas import email_out
from archive.contacts.service import ContactService
from archive.errors import InvalidInput
from archive.runtime import Runtime
from archive.web.customer_names import customer_names
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
        service = ContactService(session, runtime, viewer_of(request))
        contact = service.get(contact_id)
        purpose = purpose_given(request)
        try:
            check_purpose(purpose)
        except InvalidInput as refused:
            # Asked again before anything is read; what was typed is not shown back, as it
            # may name the person (and it has left the address bar with this answer).
            return render(
                request, "purpose.html", status_code=422, contact=contact, error=refused.detail
            )
        if not purpose and runtime.settings.require_purpose:
            # Asked before anything is read: the answer goes into every record that follows.
            return render(request, "purpose.html", contact=contact, error=None)
        shown = render_contact(
            service, contact, service.holds_of([contact]), service.reviews_of([contact])
        )
        # Whose contact this is, for roles that may see it (recorded as a customer read; the
        # contact's own read below commits both).
        names = customer_names(request, session, runtime, [shown.customer_id])
        audit_read(request, session, runtime, contact_id, content=False)
        context: dict[str, Any] = {
            "contact": shown,
            "purpose": purpose,
            "link": with_purpose,
            "customer_name": names.get(shown.customer_id) if shown.customer_id else None,
            "now": runtime.clock.now(),
        }
        if contact.channel == Channel.CHAT:
            context["chat"] = _conversation(service, contact, shown.details)
        elif contact.channel == Channel.EMAIL:
            context["email"] = email_out(contact, service.email(contact))
        if contact.channel != Channel.CALL:
            # The recording is read (and audited) by the player's own requests instead.
            audit_read(request, session, runtime, contact_id, content=True)
        return render(request, f"{contact.channel}.html", **context)

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
        html = _email_html(request, session, runtime, contact_id)
        document = f'<!doctype html><meta charset="utf-8"><base target="_blank">{html}'
        return Response(document, media_type="text/html", headers=FRAME_HEADERS)


def _email_html(
    request: AnyRequest, session: Session, runtime: Runtime, contact_id: uuid.UUID
) -> str:
    service = ContactService(session, runtime, viewer_of(request))
    parsed = service.email(service.get(contact_id))
    audit_read(request, session, runtime, contact_id, content=True)
    return parsed.html or ""


def _conversation(
    service: ContactService, contact: Contact, details: dict[str, Any]
) -> dict[str, Any]:
    """The transcript's messages with their authors' side (customer, agent, bot) and files."""
    transcript = service.transcript(contact)
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
