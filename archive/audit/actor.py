"""Who acts, as the audit trail names them, whichever way they came in (API, page, console, job).

Every entry point builds one `Actor` and hands it to a use case; the use case checks what the
actor may do and records what was done through `AuditLog.record(actor, …)`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Actor:
    name: str  # a user name, `console:<OS user>` at the console, or a job's name
    user_id: uuid.UUID | None = None
    roles: frozenset[str] = frozenset()  # every role the user holds
    role: str | None = None  # the role the action is allowed through
    # The identity provider's group that granted `role`, for a role that came from one.
    role_group: str | None = None
    source_address: str | None = None
    purpose: str | None = None  # why content is opened: the ticket or case worked on
    # The id of the HTTP request acted in (its X-Request-ID), which leads from a record to the
    # request's log lines; None at the console and in jobs.
    request_id: str | None = None

    def for_purpose(self, purpose: str | None) -> Actor:
        return replace(self, purpose=purpose)

    def acting_as(self, role: str | None) -> Actor:
        return replace(self, role=role)


def job(name: str) -> Actor:
    """A scheduled or background job, named as the trail has always named it."""
    return Actor(name=name)


def user(
    name: str,
    user_id: uuid.UUID | None,
    roles: Iterable[str] = (),
    *,
    role: str | None = None,
    source_address: str | None = None,
) -> Actor:
    return Actor(
        name=name,
        user_id=user_id,
        roles=frozenset(str(r) for r in roles),
        role=role,
        source_address=source_address,
    )
