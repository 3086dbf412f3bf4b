"""The group-to-role mapping as a login reads it (a first version; the full one comes with
the administrators' pages)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.accounts.models import Role, User, UserRole
from archive.sso.models import GroupRole, MappingState


def roles_for(session: Session, groups: Iterable[str]) -> dict[Role, str]:
    """The roles active lines of the mapping give these groups, each with the group that
    gives it (the first by name when several do)."""
    names = sorted(set(groups))
    if not names:
        return {}
    lines = session.scalars(
        select(GroupRole)
        .where(GroupRole.group_name.in_(names), GroupRole.state == MappingState.ACTIVE)
        .order_by(GroupRole.group_name, GroupRole.role)
    ).all()
    granted: dict[Role, str] = {}
    for line in lines:
        granted.setdefault(Role(line.role), line.group_name)
    return granted


def apply_roles(
    session: Session, user: User, granted: dict[Role, str]
) -> tuple[frozenset[Role], frozenset[Role]]:
    """Make the account's roles exactly `granted`; the roles added and those removed."""
    before = user.roles
    kept = []
    for row in user.role_rows:
        if Role(row.role) in granted:
            row.sso_group = granted[Role(row.role)]
            kept.append(row)
    for role in sorted(set(granted) - before):
        kept.append(UserRole(user_id=user.id, role=role.value, sso_group=granted[role]))
    user.role_rows = kept
    session.flush()
    after = frozenset(granted)
    return after - before, before - after
