"""Separation of duties (NIST SP 800-53 AC-5, AC-6): no one person can give themselves access to
content or identifiers, administrators included.

- Nobody changes their own roles.
- A role that opens content or identifiers (agent, quality, privacy), and the admin role, is
  granted only when a second administrator approves the first one's request; so is a reset of
  the password of someone holding one. Neither the one who asked nor the one it is for approves.
- A single sign-on account's roles come from the identity provider's groups, through the
  group mapping (whose guarded lines a second administrator approves); they are not set here.
- Service accounts hold machine roles only (ingest), have no password and never log in; an
  administrator makes their tokens. People make their own tokens: nobody mints one for another.

The console (`archive users ...`) is the operator's own machine, which holds the database and
the keys: it grants directly, and is the way a fresh install with one administrator grants.
"""

from __future__ import annotations

from collections.abc import Iterable

from archive.accounts.models import AccountKind, Approval, Role, User
from archive.audit.actor import Actor
from archive.errors import Conflict, Forbidden, InvalidInput

#: Roles granted only with a second administrator's approval.
GUARDED_ROLES = frozenset({Role.AGENT, Role.QUALITY, Role.PRIVACY, Role.ADMIN})
#: Roles a service account may hold.
MACHINE_ROLES = frozenset({Role.INGEST})


def at_console(actor: Actor) -> bool:
    """The operator at the console (no user account behind it): trusted to grant directly."""
    return actor.user_id is None


def guarded(roles: Iterable[Role]) -> frozenset[Role]:
    return frozenset(roles) & GUARDED_ROLES


def not_yourself(actor: Actor, user: User, what: str = "roles") -> None:
    """Nobody changes their own roles (or resets their own password: they change it)."""
    if actor.user_id == user.id:
        raise Forbidden(
            f"nobody changes their own {what}: another administrator does", field="username"
        )


def roles_set_here(user: User) -> None:
    """A single sign-on account's roles are made from its groups at each login: a role set
    here would be undone then, and would bypass the mapping's approval."""
    if user.is_sso:
        raise Conflict(
            f"{user.username}'s roles come from the identity provider's groups: change their "
            "groups at the provider, or the group mapping",
            field="roles",
        )


def check_kind(kind: AccountKind, roles: Iterable[Role]) -> None:
    """A service account holds machine roles only."""
    if kind is AccountKind.SERVICE and not frozenset(roles) <= MACHINE_ROLES:
        raise InvalidInput(
            "roles: a service account holds machine roles only (ingest)", field="roles"
        )


def may_mint_token(actor: Actor, user: User) -> None:
    """An administrator makes a service account's tokens; a person makes their own (at the
    console too, though it could: the rule is the same wherever a token is asked for)."""
    if user.is_service:
        return
    if actor.user_id != user.id:
        raise Forbidden(
            "a person creates their own API tokens (their account page, or POST "
            "/api/v1/auth/tokens); nobody mints a token for another person",
            field="username",
        )


def may_approve(actor: Actor, approval: Approval) -> None:
    if actor.user_id is not None and actor.user_id == approval.requested_by_id:
        raise Forbidden("a second administrator approves what you asked for, not you")
    if actor.user_id is not None and actor.user_id == approval.user_id:
        raise Forbidden("a change to your own account is approved by another administrator")


def needs_approval_to_reset(actor: Actor, user: User) -> bool:
    """Whether a password reset takes a second administrator: for whoever holds a guarded
    role, since the one who resets could otherwise log in as them."""
    if user.is_service:
        raise Conflict(f"{user.username} is a service account: it has no password")
    if user.is_sso:
        raise Conflict(
            f"{user.username} logs in through the identity provider: it has no password here"
        )
    return not at_console(actor) and bool(guarded(user.roles))
