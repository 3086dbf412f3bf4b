"""HTTP routes of the group-to-role mapping: administrators change it, auditors read it too.

A line is named by its group and role in the body (or, for removal, the query) rather than in
the path: providers' group names hold slashes (Keycloak's `/archive/agents`), which no path
segment can carry.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.params import FromQuery, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_202_ACCEPTED

from archive.access.guards import requires
from archive.access.permissions import Permission
from archive.api.deps import RuntimeDep, SessionDep
from archive.api.trail import actor_of
from archive.sso.models import MappingState
from archive.sso.schemas import GroupRoleIn, GroupRoleOut, line_out
from archive.sso.use_cases import mapping

AnyRequest = Request[Any, Any, Any]
USERS = requires(Permission.USERS_MANAGE)


class GroupRoleController(Controller):
    path = "/api/v1/sso/group-roles"
    tags = ["accounts"]

    @get("/", opt=requires(Permission.APPROVALS_READ), sync_to_thread=True)
    def list_lines(
        self, request: AnyRequest, session: SessionDep, runtime: RuntimeDep
    ) -> list[GroupRoleOut]:
        """Every line of the mapping, pending and active, by group and role. A group not listed
        grants nothing; a pending line grants nothing until a second administrator approves it."""
        actor = actor_of(request, Permission.APPROVALS_READ)
        return [line_out(line) for line in mapping.list_lines(session, runtime, actor)]

    @post("/", opt=USERS, sync_to_thread=True)
    def request_line(
        self,
        request: AnyRequest,
        data: JSONBody[GroupRoleIn],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> Response[GroupRoleOut]:
        """Ask for the group to grant the role: every line waits for a second administrator
        (202), the auditor role's too, since the one asking may be in the group."""
        actor = actor_of(request, Permission.USERS_MANAGE)
        line = mapping.request_line(session, runtime, actor, data.group, data.role)
        pending = line.state == MappingState.PENDING
        status = HTTP_202_ACCEPTED if pending else HTTP_201_CREATED
        return Response(line_out(line), status_code=status)

    @post("/approve", opt=USERS, sync_to_thread=True, status_code=200)
    def approve_line(
        self,
        request: AnyRequest,
        data: JSONBody[GroupRoleIn],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> GroupRoleOut:
        """Approve another administrator's pending line: the group's members get the role at
        their next login."""
        actor = actor_of(request, Permission.USERS_MANAGE)
        return line_out(mapping.approve_line(session, runtime, actor, data.group, data.role))

    @delete("/", opt=USERS, sync_to_thread=True)
    def remove_line(
        self,
        request: AnyRequest,
        session: SessionDep,
        runtime: RuntimeDep,
        group: FromQuery[str],
        role: FromQuery[str],
    ) -> None:
        """Withdraw a pending line or remove an active one (no second administrator needed):
        the accounts holding the role through the group lose it at once."""
        actor = actor_of(request, Permission.USERS_MANAGE)
        mapping.remove_line(session, runtime, actor, group, role)
