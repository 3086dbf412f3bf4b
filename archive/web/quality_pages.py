"""The quality team's pages: active holds, placing one (its cap previewed first), releasing.

Every step calls the same holds use case as the API, so a hold placed from a page leaves the
same trail, and the same legal holds in the store, as one placed with `curl`. A refusal is
shown on the form that caused it, with the status the API would answer.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from sqlalchemy.orm import Session

from archive.access.guards import requires
from archive.access.permissions import Permission
from archive.api.deps import RuntimeDep, SessionDep
from archive.api.trail import actor_of
from archive.errors import ArchiveError, InvalidInput
from archive.holds import use_cases
from archive.holds.schemas import HoldOut, hold_out
from archive.holds.service import LEGAL_ROLES, HoldRequest
from archive.retention.policy import HoldReason
from archive.runtime import Runtime
from archive.web.forms import Form, field, form_date, refusal_status, status_of
from archive.web.pages import render, user_of

AnyRequest = Request[Any, Any, Any]
READ = requires(Permission.HOLDS_READ)
PLACE = requires(Permission.HOLDS_PLACE)
SHOWN_CONTACTS = 5  # links per hold in the list; the count says how many there are in all
# The fields a hold's form carries from the form to its preview and on to placing it.
HOLD_FIELDS = (
    "reason",
    "reference",
    "scope",
    "contact_ids",
    "ticket_id",
    "customer_id",
    "since",
    "until",
    "ends_at",
)


@dataclass(frozen=True)
class Listed:
    """A hold in the list, with what it covers in words a page can link."""

    hold: HoldOut
    contact_ids: list[uuid.UUID]
    ticket_ref: str | None


def _uuid(raw: str, name: str) -> uuid.UUID | None:
    if not raw:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise InvalidInput(f"{name}: not a known id", field=name) from None


def _hold_request(data: dict[str, str]) -> HoldRequest:
    contact_ids = [_uuid(p.strip(), "contact_ids") for p in field(data, "contact_ids").split(",")]
    return HoldRequest(
        reason=field(data, "reason"),
        reference=field(data, "reference"),
        scope=field(data, "scope"),
        contact_ids=[i for i in contact_ids if i is not None],
        ticket_id=_uuid(field(data, "ticket_id"), "ticket_id"),
        customer_id=_uuid(field(data, "customer_id"), "customer_id"),
        since=form_date(field(data, "since"), "since"),
        until=form_date(field(data, "until"), "until", end=True),
        ends_at=form_date(field(data, "ends_at"), "ends_at", end=True),
    )


def _places_legal(request: AnyRequest) -> bool:
    """Whether the user may place and release `legal` holds (the service refuses the rest)."""
    user = user_of(request)
    return user is not None and bool(user.roles & LEGAL_ROLES)


def _reasons(request: AnyRequest) -> list[str]:
    legal = _places_legal(request)
    return [str(r) for r in HoldReason if r != HoldReason.LEGAL or legal]


class QualityPages(Controller):
    path = "/holds"

    @get("/", opt=READ, sync_to_thread=True)
    def active(self, request: AnyRequest, session: SessionDep, runtime: RuntimeDep) -> Any:
        """Active holds: what each covers now and when it lets the last of it go."""
        return _list_page(request, session, runtime)

    @get("/new", opt=PLACE, sync_to_thread=True)
    def new(
        self,
        request: AnyRequest,
        session: SessionDep,
        runtime: RuntimeDep,
        contact: FromQuery[uuid.UUID | None] = None,
        ticket: FromQuery[uuid.UUID | None] = None,
        customer: FromQuery[uuid.UUID | None] = None,
    ) -> Any:
        """The form, for the contact, ticket or customer whose page led here."""
        actor = actor_of(request, Permission.HOLDS_PLACE)
        draft = use_cases.draft_hold(
            session, runtime, actor, contact=contact, ticket=ticket, customer=customer
        )
        values = {
            "scope": draft.scope,
            "contact_ids": ",".join(str(i) for i in draft.contact_ids),
            "ticket_id": str(draft.ticket_id or ""),
            "customer_id": str(draft.customer_id or ""),
        }
        return _form_page(request, session, values)

    @post("/preview", opt=PLACE, sync_to_thread=True, status_code=200)
    def preview(
        self, request: AnyRequest, data: Form, session: SessionDep, runtime: RuntimeDep
    ) -> Any:
        """What the hold would cover and until when (the cap); nothing is placed."""
        values = {name: field(data, name) for name in HOLD_FIELDS}
        actor = actor_of(request, Permission.HOLDS_PLACE)
        try:
            summary = use_cases.preview_hold(session, runtime, actor, _hold_request(data))
        except ArchiveError as error:
            return _form_page(request, session, values, error=error)
        return _form_page(request, session, values, preview=hold_out(summary))

    @post("/", opt=PLACE, sync_to_thread=True, status_code=200)
    def place(
        self, request: AnyRequest, data: Form, session: SessionDep, runtime: RuntimeDep
    ) -> Any:
        values = {name: field(data, name) for name in HOLD_FIELDS}
        actor = actor_of(request, Permission.HOLDS_PLACE)
        try:
            summary = use_cases.place_hold(session, runtime, actor, _hold_request(data))
        except ArchiveError as error:
            return _form_page(request, session, values, error=error)
        return Redirect(f"/holds#hold-{summary.hold.id}", status_code=303)

    @post("/{hold_id:uuid}/release", opt=PLACE, sync_to_thread=True, status_code=200)
    def release(
        self,
        request: AnyRequest,
        hold_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> Any:
        actor = actor_of(request, Permission.HOLDS_PLACE)
        try:
            use_cases.release_hold(session, runtime, actor, hold_id)
        except ArchiveError as error:
            refusal_status(session, error)
            return _list_page(request, session, runtime, error=error)
        return Redirect("/holds", status_code=303)


def _form_page(
    request: AnyRequest,
    session: Session,
    values: dict[str, str],
    *,
    preview: HoldOut | None = None,
    error: ArchiveError | None = None,
) -> Any:
    status = refusal_status(session, error) if error else 200
    return render(
        request,
        "quality_new.html",
        status_code=status,
        values=values,
        reasons=_reasons(request),
        preview=preview,
        error=error.detail if error else None,
    )


def _list_page(
    request: AnyRequest, session: Session, runtime: Runtime, *, error: ArchiveError | None = None
) -> Any:
    actor = actor_of(request, Permission.HOLDS_READ)
    # What is hidden from the user (a restricted customer's) is counted but not named.
    listed = [
        Listed(hold_out(summary), summary.contact_ids[:SHOWN_CONTACTS], summary.ticket_ref)
        for summary in use_cases.active_holds(session, runtime, actor, with_ids=True)
    ]
    return render(
        request,
        "quality_holds.html",
        status_code=status_of(error) if error else 200,
        holds=listed,
        error=error.detail if error else None,
        releases_legal=_places_legal(request),
    )
