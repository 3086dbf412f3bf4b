"""Tests of personal accounts: users, passwords, login limits, second factors and tokens."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from archive.accounts.errors import LoginFailed
from archive.accounts.models import Role
from archive.accounts.service import AccountService, Principal
from archive.runtime import Runtime

# Long enough, not common, and unrelated to any user name used in these tests.
PASSWORD = "plum-harbour-violin-42"
ADDRESS = "192.0.2.10"
NO_MFA: frozenset[Role] = frozenset()


@contextmanager
def accounts(runtime: Runtime) -> Iterator[AccountService]:
    """An account service on a session of its own, committed when the block ends without error."""
    with runtime.session() as session:
        yield AccountService(session, runtime)
        session.commit()


def login(
    runtime: Runtime,
    username: str = "aino.virtanen",
    password: str = PASSWORD,
    *,
    code: str | None = None,
    address: str = ADDRESS,
    mfa_for: frozenset[Role] = NO_MFA,
) -> tuple[Principal, str]:
    """Log in through a session of its own; returns the principal and the session secret."""
    with accounts(runtime) as service:
        return service.login(
            username, password, totp_code=code, source_address=address, require_mfa_for=mfa_for
        )


def fail(
    runtime: Runtime, times: int, username: str = "aino.virtanen", address: str = ADDRESS
) -> None:
    for _ in range(times):
        with pytest.raises(LoginFailed):
            login(runtime, username, "wrong-password-here", address=address)
