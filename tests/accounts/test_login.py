"""Logging in: passwords, second factors, sessions, and rehashing old password hashes."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pyotp
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from archive.accounts import with_account_key
from archive.accounts.errors import LoginFailed, SecondFactorRequired, TooManyAttempts
from archive.accounts.limits import ACCOUNT_FAILURES
from archive.accounts.models import LoginAttempt, Role, User
from archive.accounts.passwords import needs_rehash
from archive.accounts.service import AccountService
from archive.clock import FixedClock
from archive.crypto.keyring import KeyMaterial, generate_key_material
from archive.runtime import Runtime

from . import (
    ADDRESS,
    NO_MFA,
    PASSWORD,
    accounts,
    login,
)


@pytest.fixture
def keys() -> KeyMaterial:
    return with_account_key(generate_key_material())


@pytest.fixture
def runtime(runtime: Runtime, clock: FixedClock) -> Runtime:
    runtime.clock = clock
    with accounts(runtime) as service:
        service.add_user("aino.virtanen", roles=[Role.AGENT], password=PASSWORD)
    return runtime


def wrong_codes(totp: pyotp.TOTP, clock: FixedClock, count: int) -> list[str]:
    """Codes that match no step the login accepts now."""
    valid = {totp.at(clock.now() + timedelta(seconds=s)) for s in (-30, 0, 30)}
    return [code for code in (f"{n:06d}" for n in range(10)) if code not in valid][:count]


def test_a_right_password_opens_an_eight_hour_session(runtime: Runtime, clock: FixedClock) -> None:
    principal, secret = login(runtime, " Aino.Virtanen ")
    assert principal.username == "aino.virtanen"
    assert principal.roles == {Role.AGENT}
    assert principal.token_kind == "session"
    assert not principal.mfa
    with accounts(runtime) as service:
        assert service.authenticate(secret) == principal
    clock.advance(timedelta(hours=8) - timedelta(seconds=1))
    with accounts(runtime) as service:
        assert service.authenticate(secret) == principal
    clock.advance(timedelta(seconds=1))
    with accounts(runtime) as service:
        assert service.authenticate(secret) is None


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("aino.virtanen", "wrong-password-here"),
        ("nobody.here", PASSWORD),
        ("Not A Name!", PASSWORD),
        ("aino.virtanen", ""),
    ],
)
def test_wrong_credentials_fail_alike(runtime: Runtime, username: str, password: str) -> None:
    with pytest.raises(LoginFailed) as caught:
        login(runtime, username, password)
    assert caught.value.detail == "user name, password or code is wrong"


def test_a_disabled_user_cannot_log_in_even_with_the_right_password(runtime: Runtime) -> None:
    with accounts(runtime) as service:
        service.disable("aino.virtanen")
    with pytest.raises(LoginFailed):
        login(runtime)


def test_failures_are_recorded_although_the_caller_rolls_back(runtime: Runtime) -> None:
    with runtime.session() as session:
        with pytest.raises(LoginFailed):
            AccountService(session, runtime).login(
                "aino.virtanen",
                "wrong-password-here",
                totp_code=None,
                source_address=ADDRESS,
                require_mfa_for=NO_MFA,
            )
        session.rollback()
    with runtime.session() as session:
        attempt = session.scalars(select(LoginAttempt)).one()
        assert not attempt.succeeded
        assert attempt.source_address == ADDRESS
        assert b"aino" not in attempt.username_key
        assert session.scalars(select(User.failed_logins)).one() == 1


def test_the_callers_session_can_write_after_a_failed_login(runtime: Runtime) -> None:
    with runtime.session() as session:
        service = AccountService(session, runtime)
        with pytest.raises(LoginFailed):
            service.login(
                "aino.virtanen",
                "wrong-password-here",
                totp_code=None,
                source_address=ADDRESS,
                require_mfa_for=NO_MFA,
            )
        # What a route does next, such as recording the failure, must still be possible.
        service.disable("aino.virtanen")
        session.commit()
    with runtime.session() as session:
        assert session.scalars(select(User)).one().disabled


def test_a_second_factor_is_asked_for_then_checked(runtime: Runtime, clock: FixedClock) -> None:
    with accounts(runtime) as service:
        totp = pyotp.TOTP(pyotp.parse_uri(service.enrol_totp("aino.virtanen")).secret)
        service.confirm_totp("aino.virtanen", totp.at(clock.now()))
    clock.advance(timedelta(seconds=30))
    with pytest.raises(SecondFactorRequired) as caught:
        login(runtime)
    assert caught.value.enrolled
    with pytest.raises(LoginFailed):
        login(runtime, code=wrong_codes(totp, clock, 1)[0])
    with pytest.raises(LoginFailed):
        login(runtime, "aino.virtanen", "wrong-password-here", code=totp.at(clock.now()))
    principal, _ = login(runtime, code=totp.at(clock.now()))
    assert principal.mfa
    with runtime.session() as session:
        assert session.scalar(select(User.failed_logins)) == 0


def test_a_code_cannot_be_used_twice(runtime: Runtime, clock: FixedClock) -> None:
    with accounts(runtime) as service:
        totp = pyotp.TOTP(pyotp.parse_uri(service.enrol_totp("aino.virtanen")).secret)
        service.confirm_totp("aino.virtanen", totp.at(clock.now()))
    with pytest.raises(LoginFailed):
        login(runtime, code=totp.at(clock.now()))  # the one that confirmed the enrolment
    clock.advance(timedelta(seconds=30))
    code = totp.at(clock.now())
    assert login(runtime, code=code)
    with pytest.raises(LoginFailed):
        login(runtime, code=code)


def test_guessing_codes_locks_the_account_like_guessing_passwords(
    runtime: Runtime, clock: FixedClock
) -> None:
    with accounts(runtime) as service:
        totp = pyotp.TOTP(pyotp.parse_uri(service.enrol_totp("aino.virtanen")).secret)
        service.confirm_totp("aino.virtanen", totp.at(clock.now()))
    for code in wrong_codes(totp, clock, ACCOUNT_FAILURES):
        with pytest.raises(LoginFailed):
            login(runtime, code=code)
    clock.advance(timedelta(seconds=30))
    with pytest.raises(TooManyAttempts):
        login(runtime, code=totp.at(clock.now()))


def test_roles_that_need_a_second_factor_cannot_log_in_without_one(runtime: Runtime) -> None:
    mfa_for = frozenset({Role.PRIVACY, Role.ADMIN})
    principal, _ = login(runtime, mfa_for=mfa_for)  # an agent needs none
    assert not principal.mfa
    with accounts(runtime) as service:
        service.set_roles("aino.virtanen", [Role.AGENT, Role.PRIVACY])
    with pytest.raises(SecondFactorRequired) as caught:
        login(runtime, mfa_for=mfa_for)
    assert not caught.value.enrolled


def test_an_old_hash_is_replaced_at_the_next_login(runtime: Runtime) -> None:
    old = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    with runtime.session() as session:
        session.scalars(select(User)).one().password_hash = old
        session.commit()
    login(runtime)
    with runtime.session() as session:
        renewed = session.scalars(select(User.password_hash)).one()
    assert renewed is not None
    assert renewed != old
    assert not needs_rehash(renewed)
    assert login(runtime)


def test_the_archive_hashes_with_the_rfc_9106_low_memory_profile() -> None:
    # In a process of its own: the suite's processes hash at a cheaper profile (tests/conftest.py).
    made = subprocess.run(
        [
            sys.executable,
            "-c",
            "from archive.accounts.passwords import hash_password, needs_rehash\n"
            f"hashed = hash_password({PASSWORD!r})\n"
            "print(hashed, needs_rehash(hashed))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    hashed, rehash = made.stdout.split()
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert rehash == "False"
    # A hash made at that profile would be renewed at its next login in this process.
    assert needs_rehash(hashed)


def test_a_current_hash_is_left_alone(runtime: Runtime) -> None:
    with runtime.session() as session:
        before = session.scalars(select(User.password_hash)).one()
    login(runtime)
    with runtime.session() as session:
        assert session.scalars(select(User.password_hash)).one() == before
