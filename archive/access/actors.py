"""What an actor of a use case sees and may do: the viewer their roles make them, and whether
a role of theirs grants a permission."""

from __future__ import annotations

from archive.access.permissions import Permission, granting_role
from archive.access.viewer import SYSTEM, Viewer
from archive.accounts.models import Role
from archive.audit import Actor


def roles_of(actor: Actor) -> frozenset[Role]:
    return frozenset(Role(role) for role in actor.roles)


def viewer_for(actor: Actor) -> Viewer:
    """Whose eyes the services read for. An account reads through its roles; the console and
    the jobs, which no account stands behind, act for the organisation itself."""
    if actor.user_id is None:
        return SYSTEM
    return Viewer(roles_of(actor))


def through(actor: Actor, permission: Permission) -> Actor | None:
    """The actor acting through their role that grants `permission`, as the trail names them
    for an action allowed by it; None if no role of theirs grants it."""
    role = granting_role(roles_of(actor), permission)
    return None if role is None else actor.acting_as(str(role))


def recorded_through(actor: Actor, permission: Permission) -> Actor:
    """The actor as the trail names them for an action allowed by `permission`: through the
    role that grants it (none if no role does); the console and the jobs keep their one role."""
    if actor.user_id is None:
        return actor
    role = granting_role(roles_of(actor), permission)
    return actor.acting_as(str(role) if role else None)


def may(actor: Actor, permission: Permission) -> bool:
    return through(actor, permission) is not None
