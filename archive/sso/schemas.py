"""What the group mapping's API accepts and returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from archive.sso.mapping import group_id
from archive.sso.models import GroupRole


@dataclass(frozen=True)
class GroupRoleIn:
    """A line of the mapping: members of the provider's `group` hold `role`."""

    group: str
    role: str


@dataclass(frozen=True)
class GroupRoleOut:
    group: str
    role: str
    state: str  # pending | active
    requested_by: str
    requested_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    # The id the audit trail names the group by (its name never goes into the trail).
    trail_id: str


def line_out(line: GroupRole) -> GroupRoleOut:
    return GroupRoleOut(
        group=line.group_name,
        role=line.role,
        state=line.state,
        requested_by=line.requested_by,
        requested_at=line.requested_at,
        approved_by=line.approved_by,
        approved_at=line.approved_at,
        trail_id=group_id(line.group_name),
    )
