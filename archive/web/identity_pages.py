"""The privacy officer's identity review queue: contacts a shared phone or mailbox could not
place with certainty, each confirmed, moved to another customer, or split off into a new one.

Every answer runs the same use case as the API's (`customers.use_cases`), so a page leaves the
same trail as `curl`. A refusal is shown on the queue with the status the API would answer.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
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
from archive.customers import use_cases
from archive.customers.reviews import ReviewItem
from archive.customers.service import CustomerView
from archive.errors import ArchiveError, InvalidInput
from archive.runtime import Runtime
from archive.web.forms import Form, field, refusal_status
from archive.web.pages import render

AnyRequest = Request[Any, Any, Any]
REVIEW = requires(Permission.IDENTITY_REVIEW)
QUEUE = "/privacy/identity"


@dataclass(frozen=True)
class Person:
    """A customer as the queue names them: a name, else an e-mail or phone, and the id."""

    id: uuid.UUID
    label: str


@dataclass(frozen=True)
class Shown:
    review: ReviewItem
    customer: Person | None
    candidates: list[Person]


class IdentityPages(Controller):
    path = QUEUE

    @get("/", opt=REVIEW, sync_to_thread=True)
    def queue(
        self,
        request: AnyRequest,
        session: SessionDep,
        runtime: RuntimeDep,
        resolved: FromQuery[bool] = False,
    ) -> Any:
        return _queue(request, session, runtime, resolved=resolved)

    @post("/{review_id:uuid}/confirm", opt=REVIEW, sync_to_thread=True, status_code=200)
    def confirm(
        self,
        request: AnyRequest,
        review_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> Any:
        actor = actor_of(request, Permission.IDENTITY_REVIEW)

        def step() -> object:
            return use_cases.confirm(session, runtime, actor, review_id)

        return _answer(request, session, runtime, step)

    @post("/{review_id:uuid}/move", opt=REVIEW, sync_to_thread=True, status_code=200)
    def move(
        self,
        request: AnyRequest,
        review_id: FromPath[uuid.UUID],
        data: Form,
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> Any:
        actor = actor_of(request, Permission.IDENTITY_REVIEW)

        def step() -> object:
            try:
                into = uuid.UUID(field(data, "customer_id"))
            except ValueError:
                raise InvalidInput("customer_id: choose a customer", field="customer_id") from None
            return use_cases.move(session, runtime, actor, review_id, into)

        return _answer(request, session, runtime, step)

    @post("/{review_id:uuid}/split", opt=REVIEW, sync_to_thread=True, status_code=200)
    def split(
        self,
        request: AnyRequest,
        review_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> Any:
        actor = actor_of(request, Permission.IDENTITY_REVIEW)

        def step() -> object:
            return use_cases.move(session, runtime, actor, review_id, None)

        return _answer(request, session, runtime, step)


def _answer(
    request: AnyRequest, session: Session, runtime: Runtime, step: Callable[[], object]
) -> Any:
    """Run an answer; back to the queue when it is done, or the queue with why it was not."""
    try:
        step()
    except ArchiveError as error:
        status = refusal_status(session, error)
        return _queue(request, session, runtime, error=error.detail, status=status)
    return Redirect(QUEUE, status_code=303)


def _queue(
    request: AnyRequest,
    session: Session,
    runtime: Runtime,
    *,
    resolved: bool = False,
    error: str | None = None,
    status: int = 200,
) -> Any:
    actor = actor_of(request, Permission.IDENTITY_REVIEW)
    found = use_cases.review_page(session, runtime, actor, resolved=resolved)
    people = {customer_id: _person(view) for customer_id, view in found.people.items()}
    shown = [
        Shown(
            review=item,
            customer=people.get(item.customer_id) if item.customer_id else None,
            candidates=[people[c] for c in item.candidates if c in people],
        )
        for item in found.items
    ]
    return render(
        request,
        "privacy_identity.html",
        status_code=status,
        items=shown,
        resolved=resolved,
        error=error,
    )


def _person(view: CustomerView) -> Person:
    return Person(view.id, next(iter(view.names or view.emails or view.phones), ""))
