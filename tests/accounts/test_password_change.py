"""Changing one's own password: the current one proves it, weak ones are refused, sessions end."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import TestClient

from archive.accounts.errors import LoginFailed, TooManyAttempts
from archive.accounts.limits import ACCOUNT_FAILURES
from archive.accounts.models import Role, User
from archive.audit import AuditAction, Outcome
from archive.audit.service import AuditLog
from archive.clock import FixedClock
from archive.errors import InvalidInput
from archive.runtime import Runtime
from archive.testing.tokens import api_token

from . import ADDRESS, PASSWORD, accounts, login

NEW = "quartz-meadow-lantern-7"
LOGIN = "/api/v1/auth/login"
CHANGE = "/api/v1/auth/password"
ME = "/api/v1/auth/me"


@pytest.fixture
def runtime(runtime: Runtime, clock: FixedClock) -> Runtime:
    runtime.clock = clock
    with accounts(runtime) as service:
        service.add_user("aino.virtanen", roles=[Role.AGENT], password=PASSWORD)
    return runtime


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def session_of(client: TestClient[Any], password: str = PASSWORD) -> dict[str, str]:
    answer = client.post(LOGIN, json={"username": "aino.virtanen", "password": password})
    assert answer.status_code == 200, answer.text
    return bearer(answer.json()["token"])


def change(client: TestClient[Any], headers: dict[str, str], current: str, new: str) -> Any:
    body = {"current_password": current, "new_password": new}
    return client.post(CHANGE, headers=headers, json=body)


def actions(runtime: Runtime) -> list[tuple[str, str]]:
    with runtime.session() as session:
        records = AuditLog(session, runtime).query(actor="aino.virtanen", limit=100)
        return [(str(r.action), str(r.outcome)) for r in reversed(records)]


def test_the_new_password_works_the_old_one_not_and_only_the_asking_session_stays(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    asking = session_of(anonymous)
    other = session_of(anonymous)
    answer = change(anonymous, asking, PASSWORD, NEW)
    assert answer.status_code == 204, answer.text
    assert anonymous.get(ME, headers=asking).status_code == 200
    assert anonymous.get(ME, headers=other).status_code == 401
    with pytest.raises(LoginFailed):
        login(runtime)
    login(runtime, password=NEW)
    assert (str(AuditAction.USER_PASSWORD_CHANGE), str(Outcome.ALLOWED)) in actions(runtime)


def test_a_wrong_current_password_is_refused_counted_and_audited(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    asking = session_of(anonymous)
    answer = change(anonymous, asking, "not-my-password-at-all", NEW)
    assert answer.status_code == 422
    assert answer.json()["field"] == "current_password"
    assert anonymous.get(ME, headers=asking).status_code == 200  # the session is not ended
    login(runtime)  # the password did not change
    with accounts(runtime) as service:
        assert service.get("aino.virtanen").failed_logins == 0  # the login above reset it
    assert (str(AuditAction.USER_LOGIN_FAILED), str(Outcome.DENIED)) in actions(runtime)
    assert str(AuditAction.USER_PASSWORD_CHANGE) not in [a for a, _ in actions(runtime)]


def test_wrong_current_passwords_lock_the_account_like_failed_logins(
    anonymous: TestClient[Any], runtime: Runtime, clock: FixedClock
) -> None:
    asking = session_of(anonymous)
    for _ in range(ACCOUNT_FAILURES):
        assert change(anonymous, asking, "not-my-password-at-all", NEW).status_code == 422
    locked = change(anonymous, asking, PASSWORD, NEW)
    assert locked.status_code == 429
    assert "retry-after" in locked.headers
    with pytest.raises(TooManyAttempts):
        login(runtime)
    assert (str(AuditAction.USER_LOCKED_OUT), str(Outcome.DENIED)) in actions(runtime)
    clock.advance(timedelta(minutes=16))
    assert change(anonymous, asking, PASSWORD, NEW).status_code == 204


@pytest.mark.parametrize(
    ("new", "message"),
    [
        ("short-1", "at least 12 characters"),
        ("Password2024!", "most common passwords"),
        ("aino.virtanen-2026", "must not contain the user name"),
        (PASSWORD, "other than the current one"),
    ],
)
def test_a_weak_new_password_is_refused_with_the_checkers_message(
    anonymous: TestClient[Any], runtime: Runtime, new: str, message: str
) -> None:
    asking = session_of(anonymous)
    answer = change(anonymous, asking, PASSWORD, new)
    assert answer.status_code == 422
    assert message in answer.json()["detail"]
    assert answer.json()["field"] == "password"
    login(runtime)


def test_an_api_token_cannot_change_its_users_password(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    secret = api_token(runtime, "svc.upload", [Role.AGENT])
    answer = change(anonymous, bearer(secret), PASSWORD, NEW)
    assert answer.status_code == 409


def test_an_ingest_account_may_not_change_a_password(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    secret = api_token(runtime, "svc.ingest", [Role.INGEST])
    assert change(anonymous, bearer(secret), PASSWORD, NEW).status_code == 403


def test_the_service_keeps_the_named_session_and_api_tokens(runtime: Runtime) -> None:
    kept, _ = login(runtime)
    ended, _ = login(runtime)
    with accounts(runtime) as service:
        token, _secret = service.issue_api_token(
            "aino.virtanen", name="script", expires_at=runtime.clock.now() + timedelta(days=1)
        )
        user = service.change_password(
            "aino.virtanen", PASSWORD, NEW, source_address=ADDRESS, keep_session=kept.token_id
        )
        assert isinstance(user, User)
        usable = {t.id for t in service.list_tokens("aino.virtanen")}
    assert usable == {kept.token_id, token.id}
    assert ended.token_id not in usable


def test_an_empty_current_password_is_not_counted_as_a_guess(runtime: Runtime) -> None:
    with accounts(runtime) as service:
        with pytest.raises(InvalidInput):
            service.change_password("aino.virtanen", "", NEW)
        assert service.get("aino.virtanen").failed_logins == 0
