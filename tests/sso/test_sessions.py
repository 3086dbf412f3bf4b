"""The provider's back-channel logout, the provider out of reach, and passwords switched off."""

from __future__ import annotations

import base64
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from archive.access.browser import SESSION_COOKIE
from archive.accounts.models import AccessToken, AccountKind, Role, User
from archive.accounts.service import AccountService
from archive.app import create_app
from archive.audit.models import AuditRecord
from archive.crypto.keyring import KeyMaterial
from archive.runtime import Runtime
from archive.settings import Settings
from archive.testing.oidc import OidcProvider
from archive.testing.tokens import authorised
from sso.signing_in import CLIENT_ID, ORIGIN, csrf, sso_archive, sso_log_in


def logged_in(browser: TestClient[Any]) -> bool:
    return browser.get("/search", follow_redirects=False).status_code == 200


def person(provider: OidcProvider, *, sid: str | None = None) -> str:
    subject = f"person-{uuid.uuid4().hex[:10]}"
    claims: dict[str, Any] = {"preferred_username": subject, "groups": ["cs-agents"]}
    if sid is not None:
        claims["sid"] = sid  # the provider's session, which its logout token will name
    provider.set_user(subject, **claims)
    return subject


def back_channel(browser: TestClient[Any], token: str | None, **form: str) -> Any:
    """The provider's server posts the form: no browser's cookie, no CSRF token."""
    if token is not None:
        form["logout_token"] = token
    kept = dict(browser.cookies)
    browser.cookies.clear()
    try:
        return browser.post("/sso/backchannel-logout", data=form)
    finally:
        for name, value in kept.items():
            browser.cookies.set(name, value, domain="archive.example")


def test_the_providers_logout_ends_that_session(
    browser: TestClient[Any], provider: OidcProvider, sso_runtime: Runtime
) -> None:
    sid = uuid.uuid4().hex
    subject = person(provider, sid=sid)
    sso_log_in(browser, provider, subject)
    assert logged_in(browser)
    answer = back_channel(browser, provider.logout_token(CLIENT_ID, sub=subject, sid=sid))
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    assert not logged_in(browser)
    with sso_runtime.session() as session:
        record = session.scalars(
            select(AuditRecord).where(AuditRecord.action == "user:logout:backchannel")
        ).one()
        user = session.scalars(select(User).where(User.sso_subject == subject)).one()
        assert record.targets == [str(user.id)]


def test_a_logout_naming_the_person_only_ends_all_their_provider_sessions(
    provider: OidcProvider, sso_runtime: Runtime
) -> None:
    subject = person(provider)
    with (
        TestClient(app=create_app(runtime=sso_runtime), base_url=ORIGIN) as first,
        TestClient(app=create_app(runtime=sso_runtime), base_url=ORIGIN) as second,
    ):
        sso_log_in(first, provider, subject)
        sso_log_in(second, provider, subject)
        assert back_channel(first, provider.logout_token(CLIENT_ID, sub=subject)).status_code == 200
        assert not logged_in(first)
        assert not logged_in(second)


def test_another_persons_session_is_left_alone(
    browser: TestClient[Any], provider: OidcProvider, sso_runtime: Runtime
) -> None:
    sid = uuid.uuid4().hex
    sso_log_in(browser, provider, person(provider, sid=sid))
    other = person(provider)
    sso_log_in(browser, provider, other)  # the browser now holds the other person's session
    token = provider.logout_token(CLIENT_ID, sub=other, sid=sid)  # their name, not their sid
    assert back_channel(browser, token).status_code == 200
    assert logged_in(browser)


@pytest.mark.parametrize(
    "wrong",
    [
        {"aud": "another-app"},
        {"iss": "https://evil.example"},
        {"events": None},
        {"events": {"http://schemas.openid.net/event/other": {}}},
        {"jti": None},
        {"nonce": "a-login-nonce"},
        {"sub": None, "sid": None},
        {"iat": 1_000_000_000, "exp": 1_000_000_300},
    ],
    ids=["audience", "issuer", "no-event", "other-event", "no-jti", "nonce", "nobody", "old"],
)
def test_a_logout_token_that_fails_a_check_ends_nothing(
    browser: TestClient[Any], provider: OidcProvider, sso_runtime: Runtime, wrong: dict[str, Any]
) -> None:
    sid = uuid.uuid4().hex
    subject = person(provider, sid=sid)
    sso_log_in(browser, provider, subject)
    token = provider.logout_token(CLIENT_ID, **{"sub": subject, "sid": sid, **wrong})
    answer = back_channel(browser, token)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"
    assert logged_in(browser)


def test_a_refused_logout_token_is_recorded(
    browser: TestClient[Any], provider: OidcProvider, sso_runtime: Runtime
) -> None:
    token = provider.logout_token("another-app", sub="someone")
    assert back_channel(browser, token).status_code == 400
    with sso_runtime.session() as session:
        record = session.scalars(
            select(AuditRecord).where(AuditRecord.action == "user:logout:backchannel")
        ).one()
        assert (record.outcome, record.targets) == ("denied", ["reason:audience"])
        assert record.actor == f"sso:{provider.issuer}"


@pytest.mark.parametrize(
    "header",
    ['{"alg":"RS256","crit":5}', '["alg"]', '{"alg":"none"}', '{"alg":"HS256"}', "null"],
    ids=["crit-not-a-list", "header-a-list", "alg-none", "symmetric", "null"],
)
def test_a_malformed_token_header_is_a_400(browser: TestClient[Any], header: str) -> None:
    encoded = base64.urlsafe_b64encode(header.encode()).rstrip(b"=").decode()
    claims = base64.urlsafe_b64encode(b'{"iss":"x"}').rstrip(b"=").decode()
    assert back_channel(browser, f"{encoded}.{claims}.c2ln").status_code == 400


def test_a_logout_token_is_taken_once(
    browser: TestClient[Any], provider: OidcProvider, sso_runtime: Runtime
) -> None:
    sid = uuid.uuid4().hex
    subject = person(provider, sid=sid)
    sso_log_in(browser, provider, subject)
    token = provider.logout_token(CLIENT_ID, sub=subject, sid=sid)
    assert back_channel(browser, token).status_code == 200
    replayed = back_channel(browser, token)
    assert replayed.status_code == 400
    assert replayed.json()["error_description"] == "replayed"


@pytest.mark.parametrize(
    "token", [None, "", "x" * 20000, "a.b.c"], ids=["none", "empty", "huge", "dots"]
)
def test_garbage_at_the_back_channel_is_a_400(browser: TestClient[Any], token: str | None) -> None:
    assert back_channel(browser, token).status_code == 400


# --- the provider out of reach ---------------------------------------------------------------


@pytest.fixture
def closed_port() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        yield taken.getsockname()[1]  # bound, never listening: connections are refused


def test_a_provider_out_of_reach_is_a_clear_page_and_service_accounts_work(
    settings: Settings, keys: KeyMaterial, closed_port: int
) -> None:
    with sso_archive(settings, keys, f"http://127.0.0.1:{closed_port}") as runtime:
        with runtime.session() as session:
            service = AccountService(session, runtime)
            service.add_user("pbx", roles=[Role.INGEST], password=None, kind=AccountKind.SERVICE)
            expires = runtime.clock.now().replace(year=runtime.clock.now().year + 1)
            _, secret = service.issue_api_token("pbx", name="telephony", expires_at=expires)
            session.commit()
        with TestClient(app=create_app(runtime=runtime), base_url=ORIGIN) as browser:
            answer = browser.get("/sso/login", follow_redirects=False)
            assert answer.status_code == 503
            assert "cannot be reached" in answer.text
            assert "127.0.0.1" not in answer.text
            # The telephony integration stores a chat with its token, as it always has.
            chat = {
                "format": "contact-archive/chat/v1",
                "id": "chat-while-the-provider-is-down",
                "participants": [{"id": "c1", "role": "customer", "name": "Mikko Lehtinen"}],
                "messages": [
                    {"id": "1", "at": "2026-03-02T09:14:05+02:00", "author": "c1", "text": "Hei"}
                ],
            }
            stored = authorised(browser, secret).post("/api/v1/contacts/chats", json=chat)
            assert stored.status_code == 201, stored.text
        with runtime.session() as session:
            record = session.scalars(
                select(AuditRecord).where(AuditRecord.action == "user:login:sso:failed")
            ).one()
            assert record.targets == ["reason:unreachable"]


def test_a_provider_that_hangs_is_waited_for_once_in_a_while(
    settings: Settings, keys: KeyMaterial
) -> None:
    # A provider that accepts connections and never answers: the first login waits out the
    # timeout; the logins after it, for a while, are told at once, so a burst of them cannot
    # tie up every thread the server has.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        silent.listen(64)
        port = silent.getsockname()[1]
        stop = threading.Event()
        held: list[socket.socket] = []

        def accept() -> None:
            silent.settimeout(0.2)
            while not stop.is_set():
                try:
                    held.append(silent.accept()[0])
                except OSError:
                    continue

        acceptor = threading.Thread(target=accept)
        acceptor.start()
        try:
            with (
                sso_archive(settings, keys, f"http://127.0.0.1:{port}") as runtime,
                TestClient(app=create_app(runtime=runtime), base_url=ORIGIN) as browser,
            ):
                started = time.monotonic()
                assert browser.get("/sso/login", follow_redirects=False).status_code == 503
                first = time.monotonic() - started
                started = time.monotonic()
                for _ in range(5):
                    assert browser.get("/sso/login", follow_redirects=False).status_code == 503
                after = (time.monotonic() - started) / 5
        finally:
            stop.set()
            acceptor.join()
            for connection in held:
                connection.close()
    assert first >= 4  # the read timeout
    assert after < 1


# --- passwords switched off -----------------------------------------------------------------


def test_with_local_logins_off_only_single_sign_on_lets_people_in(
    settings: Settings, keys: KeyMaterial, provider: OidcProvider
) -> None:
    with sso_archive(settings, keys, provider.issuer, local_login=False) as runtime:
        with runtime.session() as session:
            AccountService(session, runtime).add_user(
                "anna.agent", roles=[Role.AGENT], password="plum-harbour-violin-42"
            )
            session.commit()
        with TestClient(app=create_app(runtime=runtime), base_url=ORIGIN) as browser:
            page = browser.get("/login")
            assert 'id="sso-login"' in page.text
            assert 'name="password"' not in page.text
            form = {
                "_csrf_token": csrf(browser),
                "username": "anna.agent",
                "password": "plum-harbour-violin-42",
            }
            refused = browser.post("/login", data=form, follow_redirects=False)
            assert refused.status_code == 403
            assert "single sign-on" in refused.text
            assert SESSION_COOKIE not in browser.cookies
            api = browser.post(
                "/api/v1/auth/session",
                json={"username": "anna.agent", "password": "plum-harbour-violin-42"},
            )
            assert api.status_code == 403
            assert sso_log_in(browser, provider, person(provider)).status_code == 303
            assert logged_in(browser)
        with runtime.session() as session:
            assert session.scalars(select(AccessToken)).all() != []
