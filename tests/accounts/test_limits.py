"""Login limits: lockout per account, refusal per address, and forgetting old attempts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from archive.accounts import with_account_key
from archive.accounts.errors import TooManyAttempts
from archive.accounts.limits import ACCOUNT_FAILURES, ADDRESS_FAILURES, prune_attempts
from archive.accounts.models import LoginAttempt, Role, User
from archive.clock import FixedClock
from archive.crypto.keyring import KeyMaterial, generate_key_material
from archive.runtime import Runtime

from . import PASSWORD, accounts, fail, login


@pytest.fixture
def keys() -> KeyMaterial:
    return with_account_key(generate_key_material())


@pytest.fixture
def runtime(runtime: Runtime, clock: FixedClock) -> Runtime:
    runtime.clock = clock
    with accounts(runtime) as service:
        service.add_user("aino.virtanen", roles=[Role.AGENT], password=PASSWORD)
    return runtime


def test_five_failures_lock_the_account_for_fifteen_minutes(
    runtime: Runtime, clock: FixedClock
) -> None:
    fail(runtime, ACCOUNT_FAILURES - 1)
    clock.advance(timedelta(minutes=2))
    fail(runtime, 1)
    with pytest.raises(TooManyAttempts) as caught:
        login(runtime)  # the right password does not help while locked
    assert caught.value.retry_after == 15 * 60
    with runtime.session() as session:
        user = session.scalars(select(User)).one()
        assert user.failed_logins == ACCOUNT_FAILURES
        assert user.locked_until == clock.now() + timedelta(minutes=15)
    clock.advance(timedelta(minutes=14))
    with pytest.raises(TooManyAttempts) as caught:
        login(runtime, address="198.51.100.1")  # nor does another address
    assert caught.value.retry_after == 60
    clock.advance(timedelta(minutes=1))
    principal, _ = login(runtime)
    assert principal.username == "aino.virtanen"
    with runtime.session() as session:
        user = session.scalars(select(User)).one()
        assert (user.failed_logins, user.locked_until) == (0, None)


def test_a_success_resets_the_account_counter(runtime: Runtime) -> None:
    fail(runtime, ACCOUNT_FAILURES - 1)
    login(runtime)
    fail(runtime, ACCOUNT_FAILURES - 1)
    assert login(runtime)


def test_failures_spread_over_more_than_the_window_do_not_lock(
    runtime: Runtime, clock: FixedClock
) -> None:
    for _ in range(ACCOUNT_FAILURES * 2):
        fail(runtime, 1)
        clock.advance(timedelta(minutes=4))
    assert login(runtime)


def test_unknown_names_lock_like_real_ones_so_lockout_reveals_nothing(runtime: Runtime) -> None:
    fail(runtime, ACCOUNT_FAILURES, username="nobody.here")
    with pytest.raises(TooManyAttempts):
        login(runtime, "nobody.here")
    assert login(runtime)  # other accounts are untouched


def test_an_address_is_refused_after_twenty_failures_on_any_accounts(
    runtime: Runtime, clock: FixedClock
) -> None:
    for number in range(ADDRESS_FAILURES):
        fail(runtime, 1, username=f"guess.{number}")
        clock.advance(timedelta(seconds=10))
    with pytest.raises(TooManyAttempts) as caught:
        login(runtime)
    # The first failure leaves the window 15 minutes after it was made.
    assert caught.value.retry_after == 15 * 60 - ADDRESS_FAILURES * 10
    assert login(runtime, address="198.51.100.1")  # other addresses are not limited
    clock.advance(timedelta(seconds=caught.value.retry_after))
    assert login(runtime)


def test_one_ipv6_network_counts_as_one_address(runtime: Runtime) -> None:
    for number in range(ADDRESS_FAILURES):
        fail(runtime, 1, username=f"guess.{number}", address=f"2001:db8:7:7::{number + 1:x}")
    with pytest.raises(TooManyAttempts):
        login(runtime, address="2001:db8:7:7:ffff::1")
    assert login(runtime, address="2001:db8:7:8::1")


def test_refused_attempts_are_not_counted(runtime: Runtime) -> None:
    fail(runtime, ACCOUNT_FAILURES)
    for _ in range(3):
        with pytest.raises(TooManyAttempts):
            login(runtime)
    with runtime.session() as session:
        assert session.scalar(select(func.count()).select_from(LoginAttempt)) == ACCOUNT_FAILURES


def test_attempts_are_forgotten_once_no_limit_needs_them(
    runtime: Runtime, clock: FixedClock
) -> None:
    fail(runtime, 2)
    clock.advance(timedelta(minutes=20))
    fail(runtime, 1)
    with runtime.session() as session:
        assert prune_attempts(session, now=clock.now()) == 0
        clock.advance(timedelta(minutes=11))  # the first two are now 31 minutes old
        assert prune_attempts(session, now=clock.now()) == 2
        session.commit()
        assert session.scalar(select(func.count()).select_from(LoginAttempt)) == 1
