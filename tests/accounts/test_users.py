"""Adding, listing, disabling and changing users, and enrolling a second factor."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from archive.accounts import use_cases, with_account_key
from archive.accounts.errors import LoginFailed, SecondFactorRequired
from archive.accounts.models import AccessToken, Role, User
from archive.accounts.service import AccountService
from archive.accounts.use_cases import NewUser
from archive.audit.actor import Actor
from archive.clock import FixedClock
from archive.crypto.keyring import KeyMaterial, generate_key_material
from archive.errors import ConfigurationError, Conflict, InvalidInput, NotFound
from archive.runtime import Runtime

from . import NO_MFA, PASSWORD, accounts, login


@pytest.fixture
def keys() -> KeyMaterial:
    return with_account_key(generate_key_material())


@pytest.fixture
def runtime(runtime: Runtime, clock: FixedClock) -> Runtime:
    runtime.clock = clock
    return runtime


def session_secret(runtime: Runtime, password: str = PASSWORD) -> str:
    return login(runtime, "aino.virtanen", password)[1]


def test_a_user_is_added_with_roles_and_a_hashed_password(
    runtime: Runtime, clock: FixedClock
) -> None:
    with accounts(runtime) as service:
        _user, uri = service.add_user(
            "Aino.Virtanen",
            roles=[Role.AGENT, Role.QUALITY],
            password=PASSWORD,
            display_name=" Aino Virtanen ",
            created_by="maria.admin",
        )
    assert uri is None
    with runtime.session() as session:
        stored = session.scalars(select(User)).one()
        assert stored.username == "aino.virtanen"
        assert stored.display_name == "Aino Virtanen"
        assert stored.roles == {Role.AGENT, Role.QUALITY}
        assert stored.password_hash is not None
        assert stored.password_hash.startswith("$argon2id$")
        assert PASSWORD not in stored.password_hash
        assert stored.created_at == clock.now()
        assert stored.password_changed_at == clock.now()
        assert stored.created_by == "maria.admin"
        assert not stored.disabled
        assert not stored.totp_enabled


def test_usernames_are_unique_whatever_their_case(runtime: Runtime) -> None:
    with accounts(runtime) as service:
        service.add_user("aino.virtanen", roles=[Role.AGENT], password=PASSWORD)
    with accounts(runtime) as service, pytest.raises(Conflict):
        service.add_user("AINO.Virtanen", roles=[Role.AGENT], password=PASSWORD)


def test_the_database_refuses_a_name_that_is_not_lower_case(runtime: Runtime) -> None:
    with accounts(runtime) as service:
        user, _ = service.add_user("aino.virtanen", roles=[Role.AGENT], password=PASSWORD)
        user.username = "Aino.Virtanen"
        with pytest.raises(IntegrityError, match=r"(?i)check"):
            service.session.flush()
        service.session.rollback()


def test_weak_passwords_shared_names_and_no_roles_are_refused(runtime: Runtime) -> None:
    with accounts(runtime) as service:
        with pytest.raises(InvalidInput, match="common"):
            service.add_user("aino.virtanen", roles=[Role.AGENT], password="password1234")
        with pytest.raises(InvalidInput, match="user name"):
            service.add_user("aino.virtanen", roles=[Role.AGENT], password="aino.virtanen!!")
        with pytest.raises(InvalidInput, match="shared login"):
            service.add_user("support", roles=[Role.AGENT], password=PASSWORD)
        assert service.list_users() == []
    new = NewUser("aino.virtanen", roles=[], password=PASSWORD)
    with runtime.session() as session, pytest.raises(InvalidInput, match="at least one role"):
        use_cases.add_user(session, runtime, Actor("console:test"), new)


def test_a_service_account_has_no_password_and_cannot_log_in(runtime: Runtime) -> None:
    with accounts(runtime) as service:
        user, _ = service.add_user("telephony-upload", roles=[Role.INGEST], password=None)
        assert user.password_hash is None
    with pytest.raises(LoginFailed):
        login(runtime, "telephony-upload", "")


def test_users_are_listed_by_name(runtime: Runtime) -> None:
    with accounts(runtime) as service:
        for name in ("ville.nieminen", "aino.virtanen", "mikko.korhonen"):
            service.add_user(name, roles=[Role.AGENT], password=PASSWORD)
    with accounts(runtime) as service:
        assert [u.username for u in service.list_users()] == [
            "aino.virtanen",
            "mikko.korhonen",
            "ville.nieminen",
        ]
        with pytest.raises(NotFound):
            service.get("nobody.here")


def test_disabling_stops_every_token_at_once_and_enabling_does_not_revive_them(
    runtime: Runtime,
    clock: FixedClock,
) -> None:
    with accounts(runtime) as service:
        service.add_user("aino.virtanen", roles=[Role.INGEST], password=PASSWORD)
        _token, api_secret = service.issue_api_token(
            "aino.virtanen", name="telephony", expires_at=clock.now() + timedelta(days=90)
        )
    secret_of_session = session_secret(runtime)
    with accounts(runtime) as service:
        assert service.authenticate(secret_of_session) is not None
        assert service.disable("Aino.Virtanen").disabled_at == clock.now()
    with accounts(runtime) as service:
        assert service.authenticate(secret_of_session) is None
        assert service.authenticate(api_secret) is None
        assert service.list_tokens("aino.virtanen") == []
        assert service.enable("aino.virtanen").disabled_at is None
    with accounts(runtime) as service:
        assert service.authenticate(api_secret) is None
    assert session_secret(runtime)


def test_a_password_reset_ends_sessions_but_keeps_api_tokens(
    runtime: Runtime, clock: FixedClock
) -> None:
    with accounts(runtime) as service:
        service.add_user("aino.virtanen", roles=[Role.AGENT], password=PASSWORD)
        _token, api_secret = service.issue_api_token(
            "aino.virtanen", name="script", expires_at=clock.now() + timedelta(days=1)
        )
    secret_of_session = session_secret(runtime)
    clock.advance(timedelta(minutes=5))
    with accounts(runtime) as service:
        with pytest.raises(InvalidInput, match="common"):
            service.set_password("aino.virtanen", "qwerty123456")
        user = service.set_password("aino.virtanen", "lantern-moss-quartz-77")
        assert user.password_changed_at == clock.now()
    with accounts(runtime) as service:
        assert service.authenticate(secret_of_session) is None
        assert service.authenticate(api_secret) is not None
    with pytest.raises(LoginFailed):
        session_secret(runtime)
    assert session_secret(runtime, "lantern-moss-quartz-77")


def test_changed_roles_apply_to_tokens_already_issued(runtime: Runtime) -> None:
    with accounts(runtime) as service:
        service.add_user("aino.virtanen", roles=[Role.AGENT, Role.QUALITY], password=PASSWORD)
    secret = session_secret(runtime)
    with accounts(runtime) as service:
        user = service.set_roles("aino.virtanen", [Role.QUALITY, Role.PRIVACY])
        assert user.roles == {Role.QUALITY, Role.PRIVACY}
    with runtime.session() as session, pytest.raises(InvalidInput):
        use_cases.set_roles(session, runtime, Actor("console:test"), "aino.virtanen", [])
    with accounts(runtime) as service:
        principal = service.authenticate(secret)
        assert principal is not None
        assert principal.roles == {Role.QUALITY, Role.PRIVACY}


def test_a_user_added_with_totp_gets_a_working_provisioning_uri(
    runtime: Runtime, clock: FixedClock
) -> None:
    with accounts(runtime) as service:
        user, uri = service.add_user(
            "aino.virtanen", roles=[Role.PRIVACY], password=PASSWORD, totp=True
        )
    assert uri is not None
    secret = pyotp.parse_uri(uri).secret
    assert user.totp_enabled
    assert user.totp_secret_ciphertext is not None
    assert secret.encode() not in user.totp_secret_ciphertext
    with accounts(runtime) as service:
        principal, _ = service.login(
            "aino.virtanen",
            PASSWORD,
            totp_code=pyotp.TOTP(secret).at(clock.now()),
            source_address="192.0.2.1",
            require_mfa_for=frozenset({Role.PRIVACY}),
        )
    assert principal.mfa


def test_an_enrolled_factor_counts_only_once_confirmed(runtime: Runtime, clock: FixedClock) -> None:
    with accounts(runtime) as service:
        service.add_user("aino.virtanen", roles=[Role.AGENT], password=PASSWORD)
        with pytest.raises(Conflict):
            service.confirm_totp("aino.virtanen", "123456")
        secret = pyotp.parse_uri(service.enrol_totp("aino.virtanen")).secret
    assert session_secret(runtime)  # still no factor needed
    with accounts(runtime) as service:
        with pytest.raises(InvalidInput, match="does not match"):
            service.confirm_totp("aino.virtanen", "000000")
        service.confirm_totp("aino.virtanen", pyotp.TOTP(secret).at(clock.now()))
        assert service.get("aino.virtanen").totp_enabled
    with pytest.raises(SecondFactorRequired):
        session_secret(runtime)


def test_re_enrolling_keeps_the_old_factor_until_the_new_one_is_confirmed(
    runtime: Runtime,
    clock: FixedClock,
) -> None:
    with accounts(runtime) as service:
        _user, uri = service.add_user(
            "aino.virtanen", roles=[Role.AGENT], password=PASSWORD, totp=True
        )
        assert uri is not None
        old = pyotp.TOTP(pyotp.parse_uri(uri).secret)
        new = pyotp.TOTP(pyotp.parse_uri(service.enrol_totp("aino.virtanen")).secret)
    with accounts(runtime) as service:
        service.login(
            "aino.virtanen",
            PASSWORD,
            totp_code=old.at(clock.now()),
            source_address="192.0.2.1",
            require_mfa_for=NO_MFA,
        )
    clock.advance(timedelta(seconds=30))
    with accounts(runtime) as service:
        service.confirm_totp("aino.virtanen", new.at(clock.now()))
    clock.advance(timedelta(seconds=30))
    with accounts(runtime) as service:
        principal, _ = service.login(
            "aino.virtanen",
            PASSWORD,
            totp_code=new.at(clock.now()),
            source_address="192.0.2.1",
            require_mfa_for=NO_MFA,
        )
    assert principal.mfa


def test_accounts_need_the_account_key(runtime: Runtime) -> None:
    fresh = generate_key_material()
    runtime.keys = KeyMaterial(fresh.keyring, fresh.blind_index_key)  # an old key file
    with runtime.session() as session, pytest.raises(ConfigurationError, match="account_key"):
        AccountService(session, runtime)


def test_nothing_secret_is_stored_in_the_token_table(runtime: Runtime) -> None:
    with accounts(runtime) as service:
        service.add_user("aino.virtanen", roles=[Role.AGENT], password=PASSWORD)
    secret = session_secret(runtime)
    with runtime.session() as session:
        token = session.scalars(select(AccessToken)).one()
        assert secret.encode() not in token.token_hash
        assert token.prefix == secret[:8]
        assert len(token.token_hash) == 32
