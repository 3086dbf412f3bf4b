"""HTTP routes of the identity review queue: contacts whose customer is uncertain."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from archive.access.guards import requires
from archive.access.permissions import Permission
from archive.api.deps import RuntimeDep, SessionDep
from archive.api.trail import actor_of
from archive.customers import use_cases
from archive.customers.schemas import MoveIn, ReviewOut, SplitOut, review_out, split_out


class IdentityReviewController(Controller):
    path = "/api/v1/identity-reviews"
    tags = ["customers"]

    @get(
        "/",
        opt=requires(Permission.IDENTITY_REVIEW),
        sync_to_thread=True,
        summary="Contacts attached to a customer without certainty, oldest first",
    )
    def list_reviews(
        self,
        request: Request[Any, Any, Any],
        session: SessionDep,
        runtime: RuntimeDep,
        resolved: FromQuery[bool] = False,
        customer_id: FromQuery[uuid.UUID | None] = None,
        limit: FromQuery[int] = 50,
    ) -> list[ReviewOut]:
        """Open reviews (or, with `resolved=true`, the latest resolved ones)."""
        actor = actor_of(request, Permission.IDENTITY_REVIEW)
        found = use_cases.review_queue(
            session, runtime, actor, resolved=resolved, limit=limit, customer=customer_id
        )
        return [review_out(r) for r in found]

    @post(
        "/{review_id:uuid}/confirm",
        opt=requires(Permission.IDENTITY_REVIEW),
        sync_to_thread=True,
        status_code=200,
        summary="The contact is its customer's; the identifiers it brought join the customer",
    )
    def confirm(
        self,
        request: Request[Any, Any, Any],
        review_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> ReviewOut:
        actor = actor_of(request, Permission.IDENTITY_REVIEW)
        return review_out(use_cases.confirm(session, runtime, actor, review_id))

    @post(
        "/{review_id:uuid}/move",
        opt=requires(Permission.IDENTITY_REVIEW),
        sync_to_thread=True,
        status_code=200,
        summary="The contact is another customer's: move it there, with what it brought",
    )
    def move(
        self,
        request: Request[Any, Any, Any],
        review_id: FromPath[uuid.UUID],
        data: JSONBody[MoveIn],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> SplitOut:
        actor = actor_of(request, Permission.IDENTITY_REVIEW)
        return split_out(use_cases.move(session, runtime, actor, review_id, data.customer_id))

    @post(
        "/{review_id:uuid}/split",
        opt=requires(Permission.IDENTITY_REVIEW),
        sync_to_thread=True,
        status_code=200,
        summary="The contact is a person of its own: a new customer, with what it brought",
    )
    def split(
        self,
        request: Request[Any, Any, Any],
        review_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> SplitOut:
        actor = actor_of(request, Permission.IDENTITY_REVIEW)
        return split_out(use_cases.move(session, runtime, actor, review_id, None))
