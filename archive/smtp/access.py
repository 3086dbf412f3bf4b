"""Who may hand mail to the SMTP endpoint: a listed client address, or an ingest account that
logs in with its name and an API token."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

import structlog
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from sqlalchemy.exc import SQLAlchemyError

from archive.access.permissions import Permission, granting_role
from archive.accounts.service import AccountService
from archive.audit import Actor
from archive.errors import ArchiveError
from archive.runtime import Runtime

log = structlog.get_logger(__name__)
AUTH_UNAVAILABLE = "454 4.7.0 Temporary authentication failure, try again later"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """ARCHIVE_SMTP_ALLOW's entries (checked at start-up) as networks."""
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def peer_address(session: Session) -> str:
    peer = session.peer
    return str(peer[0]) if isinstance(peer, tuple) and peer else ""


def is_listed(address: str, allowed: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # a dual-stack socket names IPv4 clients this way
    return any(ip in network for network in allowed)


def listed_client(address: str) -> Actor:
    """A client let in by its address: the trail names the address, as no account logged in."""
    return Actor(name=f"smtp:{address}", source_address=address)


class TokenAuthenticator:
    """AUTH PLAIN and LOGIN: the user name is an account's, the password one of its API tokens,
    and the account must hold a role that stores contacts (the ingest role)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        try:
            actor = self.actor(
                auth_data.login.decode("utf-8", "replace"),
                auth_data.password.decode("utf-8", "replace"),
                peer_address(session),
            )
        except (SQLAlchemyError, ArchiveError) as error:
            # The accounts cannot be read now; the client may try again later.
            log.warning("smtp.auth_unavailable", error=type(error).__name__)
            return AuthResult(success=False, handled=False, message=AUTH_UNAVAILABLE)
        if actor is None:
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True, auth_data=actor)

    def actor(self, login: str, secret: str, address: str) -> Actor | None:
        """The account as the trail names it, or None for a wrong name, token or role."""
        with self.runtime.session() as session:
            principal = AccountService(session, self.runtime).authenticate(secret)
        if principal is None or principal.username != login.strip().lower():
            return None
        role = granting_role(principal.roles, Permission.CONTACTS_CREATE)
        if role is None:
            return None
        return Actor(
            name=principal.username,
            user_id=principal.user_id,
            roles=frozenset(str(r) for r in principal.roles),
            role=str(role),
            source_address=address or None,
        )
