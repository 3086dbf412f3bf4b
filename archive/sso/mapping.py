"""The group-to-role mapping: which of the provider's groups grant which roles here, and an
account's roles made from its groups at each login.

A group not in the mapping grants nothing. A line granting a guarded role (one opening content
or identifiers, or admin) is pending until a second administrator approves it: the four-eyes
rule that holds for granting such a role to one person holds for the line, which grants it to
everyone in the group at each of their logins. Removing a line is never guarded.

Group names are compared exactly as the provider sends them (case and all): a provider's
group is an opaque name, and two names that differ in case may be two groups.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from archive.accounts.duties import MACHINE_ROLES, at_console
from archive.accounts.models import Role, User, UserRole
from archive.audit.actor import Actor
from archive.errors import Conflict, Forbidden, InvalidInput, NotFound
from archive.runtime import Runtime
from archive.sso.models import MAX_GROUP, GroupRole, MappingState

#: Roles a group may grant: a person's roles, never a machine's.
PERSON_ROLES = frozenset(Role) - MACHINE_ROLES
# Control and invisible formatting characters (bidirectional overrides, zero-width joiners)
# and line breaks: the second administrator must see the very name they approve.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def clean_group(raw: object) -> str:
    """A group's name as the mapping keeps it: stripped, 1-200 characters on one line."""
    group = raw.strip() if isinstance(raw, str) else ""
    if not 1 <= len(group) <= MAX_GROUP or any(
        unicodedata.category(char) in _REFUSED_CATEGORIES for char in group
    ):
        raise InvalidInput(
            f"group: the provider's group name, 1-{MAX_GROUP} characters on one line, "
            "without control or invisible characters",
            field="group",
        )
    return group


def clean_role(raw: object) -> Role:
    """A role a group may grant: any person's role; ingest is for service accounts only."""
    try:
        role = Role(str(raw))
    except ValueError:
        role = None
    if role not in PERSON_ROLES:
        allowed = ", ".join(sorted(PERSON_ROLES))
        raise InvalidInput(f"role: a group grants one of {allowed}", field="role")
    assert role is not None
    return role


def group_id(group: str) -> str:
    """The id the audit trail names a group by: its name may be anything the provider sends,
    and names never go into the trail, only ids."""
    return "sso-group:" + hashlib.sha256(group.encode()).hexdigest()[:32]


class GroupMapping:
    """The mapping's lines, and the rules for changing them."""

    def __init__(self, session: Session, runtime: Runtime) -> None:
        self.session = session
        self.runtime = runtime

    def lines(self) -> list[GroupRole]:
        """Every line, pending and active, by group and role (as Python sorts them, so every
        database lists them alike)."""
        found = self.session.scalars(select(GroupRole))
        return sorted(found, key=lambda line: (line.group_name, line.role))

    def get(self, group: str, role: str, *, lock: bool = False) -> GroupRole:
        query = select(GroupRole).where(
            GroupRole.group_name == clean_group(group), GroupRole.role == clean_role(role)
        )
        # Locked, so two administrators deciding one line decide one after the other.
        line = self.session.scalars(query.with_for_update() if lock else query).one_or_none()
        if line is None:
            raise NotFound(f"no line of the mapping grants {role} to the group {group!r}")
        return line

    def request(self, group: str, role: str, actor: Actor) -> GroupRole:
        """A new line: active at once at the console, otherwise pending until a second
        administrator approves it, whatever role it grants. For one person the auditor role
        needs no second administrator, but nobody grants themselves a role; a line grants it
        to a group the administrator asking may well be in, so every line waits."""
        name, wanted = clean_group(group), clean_role(role)
        now = self.runtime.clock.now()
        line = GroupRole(
            group_name=name,
            role=wanted.value,
            state=MappingState.PENDING,
            requested_by=actor.name,
            requested_by_id=actor.user_id,
            requested_at=now,
        )
        if at_console(actor):
            line.state = MappingState.ACTIVE
            line.approved_by = actor.name
            line.approved_at = now
        self._not_for_yourself(actor, name)
        if self.session.get(GroupRole, (name, wanted.value)) is not None:
            raise Conflict(f"the group {name!r} already has a line for {wanted}")
        try:
            with self.session.begin_nested():
                self.session.add(line)
        except IntegrityError:  # asked for at the same moment by someone else
            raise Conflict(f"the group {name!r} already has a line for {wanted}") from None
        return line

    def approve(self, group: str, role: str, actor: Actor) -> GroupRole:
        """A second administrator makes a pending line active (not the one who asked)."""
        line = self.get(group, role, lock=True)
        if line.state != MappingState.PENDING:
            raise Conflict(f"the line granting {line.role} to {line.group_name!r} is active")
        if actor.user_id is not None and actor.user_id == line.requested_by_id:
            raise Forbidden("a second administrator approves what you asked for, not you")
        self._not_for_yourself(actor, line.group_name)
        line.state = MappingState.ACTIVE
        line.approved_by = actor.name
        line.approved_at = self.runtime.clock.now()
        self.session.flush()
        return line

    def _not_for_yourself(self, actor: Actor, group: str) -> None:
        """Nobody asks for, or approves, a line for a group they are in: it would grant them
        the role (the rule that nobody changes their own roles). Membership is as the
        provider gave it at the administrator's last login through it."""
        if actor.user_id is None:
            return
        user = self.session.get(User, actor.user_id)
        if user is not None and group in user.last_sso_groups:
            raise Forbidden(
                f"you are in the group {group!r} at the identity provider: a line for it would "
                "give you its role, so two other administrators decide it"
            )

    def remove(self, group: str, role: str) -> tuple[GroupRole, list[User]]:
        """Withdraw a pending line or remove an active one; never guarded, as it grants less.

        The role goes at once from the accounts that hold it through this group, not only at
        their next login: the sessions they have open lose it with their next request. One who
        holds it through another group too gets it back at that login.
        Returns the line as it was and the accounts that lost the role.
        """
        line = self.get(group, role, lock=True)
        holders = list(
            self.session.scalars(
                select(User)
                .join(UserRole, UserRole.user_id == User.id)
                .where(UserRole.role == line.role, UserRole.sso_group == line.group_name)
            )
        )
        self.session.execute(
            delete(UserRole).where(
                UserRole.role == line.role, UserRole.sso_group == line.group_name
            )
        )
        for user in holders:
            self.session.expire(user, ["role_rows"])
        self.session.delete(line)
        self.session.flush()
        return line, holders


def roles_for(session: Session, groups: Iterable[str]) -> dict[Role, str]:
    """The roles the groups grant, each with the group that grants it, by active lines only.

    When several of the groups grant one role, the first of their names in sorted order is
    named, so the same groups always give the same answer.
    """
    # A provider that sends one group as a bare string means that group, not its letters.
    listed = [groups] if isinstance(groups, str) else groups
    member_of = {group for group in listed if isinstance(group, str)}
    active = session.scalars(select(GroupRole).where(GroupRole.state == MappingState.ACTIVE))
    granted: dict[Role, str] = {}
    for line in sorted(active, key=lambda line: (line.group_name, line.role)):
        role = Role(line.role)
        if line.group_name in member_of and role in PERSON_ROLES:
            granted.setdefault(role, line.group_name)
    return granted


def apply_roles(
    session: Session, user: User, granted: dict[Role, str]
) -> tuple[frozenset[Role], frozenset[Role]]:
    """Make a single sign-on account hold exactly the roles `granted`, each marked with the
    group it came from; returns the roles (added, removed). Recording it is the caller's.
    """
    if not user.is_sso:
        raise Conflict(f"{user.username} is no single sign-on account: its roles are set here")
    if machine := frozenset(granted) - PERSON_ROLES:
        raise InvalidInput(f"roles: a group grants no machine role ({', '.join(sorted(machine))})")
    before = user.roles
    kept = [row for row in user.role_rows if Role(row.role) in granted]
    for row in kept:
        row.sso_group = granted[Role(row.role)]
    held = {Role(row.role) for row in kept}
    added = [UserRole(role=role.value, sso_group=granted[role]) for role in sorted(granted)]
    user.role_rows = kept + [row for row in added if Role(row.role) not in held]
    session.flush()
    after = user.roles
    return after - before, before - after
