"""The administrators' page of the single sign-on group mapping: which provider groups grant
which roles, the lines waiting for a second administrator, and the forms that change them.

Every change calls the same use case as the API, acting through the same permission. A line
is named by form fields, not the address: group names hold slashes.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromQuery
from litestar.response import Redirect
from sqlalchemy.orm import Session

from archive.access.guards import requires
from archive.access.permissions import Permission
from archive.accounts import use_cases as accounts
from archive.api.deps import RuntimeDep, SessionDep
from archive.api.trail import actor_of, principal_of
from archive.audit.actor import Actor
from archive.errors import ArchiveError
from archive.runtime import Runtime
from archive.sso.mapping import PERSON_ROLES
from archive.sso.models import MAX_GROUP, MappingState
from archive.sso.schemas import line_out
from archive.sso.use_cases import mapping
from archive.web.forms import Form, field, refusal_status
from archive.web.pages import render

AnyRequest = Request[Any, Any, Any]
USERS = requires(Permission.USERS_MANAGE)
PAGE = "/admin/sso-groups"
ROLES = sorted(str(role) for role in PERSON_ROLES)
# What a change just done says on the page it leads back to.
DONE = {
    "requested": "Line asked for: it grants nothing until a second administrator approves it.",
    "mapped": "Line added: the group's members get the role at their next login.",
    "approved": "Approved: the group's members get the role at their next login.",
    "removed": "Line removed: the group's members lost the role.",
    "withdrawn": "Withdrawn: the line will not take effect.",
}


class SsoMappingPages(Controller):
    path = PAGE

    @get("/", opt=USERS, sync_to_thread=True)
    def lines(
        self,
        request: AnyRequest,
        session: SessionDep,
        runtime: RuntimeDep,
        done: FromQuery[str | None] = None,
    ) -> Any:
        """Every line of the mapping with its state, who asked and who approved."""
        return mapping_page(request, session, runtime, done=DONE.get(done or ""))

    @post("/", opt=USERS, sync_to_thread=True, status_code=200)
    def request_line(
        self, request: AnyRequest, data: Form, session: SessionDep, runtime: RuntimeDep
    ) -> Any:
        """Ask for a group to grant a role; it waits for a second administrator."""
        values = {"group": field(data, "group", MAX_GROUP + 1), "role": field(data, "role")}
        try:
            line = mapping.request_line(
                session, runtime, actor(request), values["group"], values["role"]
            )
        except ArchiveError as error:
            return mapping_page(request, session, runtime, values=values, error=error)
        said = "requested" if line.state == MappingState.PENDING else "mapped"
        return Redirect(f"{PAGE}?done={said}", status_code=303)

    @post("/approve", opt=USERS, sync_to_thread=True, status_code=200)
    def approve_line(
        self, request: AnyRequest, data: Form, session: SessionDep, runtime: RuntimeDep
    ) -> Any:
        """Approve another administrator's line."""
        group, role = field(data, "group", MAX_GROUP + 1), field(data, "role")
        try:
            mapping.approve_line(session, runtime, actor(request), group, role)
        except ArchiveError as error:
            return mapping_page(request, session, runtime, error=error)
        return Redirect(f"{PAGE}?done=approved", status_code=303)

    @post("/remove", opt=USERS, sync_to_thread=True, status_code=200)
    def remove_line(
        self, request: AnyRequest, data: Form, session: SessionDep, runtime: RuntimeDep
    ) -> Any:
        """Withdraw a pending line or remove an active one; no second administrator needed."""
        group, role = field(data, "group", MAX_GROUP + 1), field(data, "role")
        try:
            line = mapping.remove_line(session, runtime, actor(request), group, role)
        except ArchiveError as error:
            return mapping_page(request, session, runtime, error=error)
        said = "withdrawn" if line.state == MappingState.PENDING else "removed"
        return Redirect(f"{PAGE}?done={said}", status_code=303)


def actor(request: AnyRequest) -> Actor:
    return actor_of(request, Permission.USERS_MANAGE)


def mapping_page(
    request: AnyRequest,
    session: Session,
    runtime: Runtime,
    *,
    values: dict[str, str] | None = None,
    error: ArchiveError | None = None,
    done: str | None = None,
) -> Any:
    status = refusal_status(session, error) if error else 200
    lines = mapping.list_lines(session, runtime, actor(request))
    return render(
        request,
        "sso_mapping.html",
        status_code=status,
        lines=[line_out(line) for line in lines],
        roles=ROLES,
        own=principal_of(request),
        lone_admin=accounts.lone_admin(session, runtime),
        values=values or {"group": "", "role": ""},
        done=done,
        error=error.detail if error else None,
        error_field=error.field if error else None,
    )
