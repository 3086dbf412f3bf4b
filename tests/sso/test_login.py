"""Logging in through a real OpenID Connect provider: the account it makes, the roles the
groups give, and every refusal a clear page with an audit record."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from archive.access.browser import SESSION_COOKIE
from archive.accounts.models import AccessToken, Role, User
from archive.accounts.service import AccountService
from archive.app import create_app
from archive.audit.models import AuditRecord
from archive.crypto.keyring import KeyMaterial
from archive.runtime import Runtime
from archive.settings import Settings
from archive.sso import provider as provider_module
from archive.sso.mapping import group_id
from archive.sso.models import GroupRole, MappingState
from archive.sso.provider import Provider
from archive.testing.oidc import OidcProvider
from sso.signing_in import (
    CLIENT_ID,
    ORIGIN,
    csrf,
    map_groups,
    new_subject,
    person,
    sso_archive,
    sso_log_in,
)


def records(runtime: Runtime, action: str) -> list[SimpleNamespace]:
    """The records of `action`, oldest first, as plain values."""
    with runtime.session() as session:
        found = session.scalars(
            select(AuditRecord).where(AuditRecord.action == action).order_by(AuditRecord.id)
        )
        return [
            SimpleNamespace(
                actor=r.actor, actor_id=r.actor_id, outcome=r.outcome, targets=r.targets
            )
            for r in found
        ]


def account(runtime: Runtime, subject: str) -> SimpleNamespace | None:
    """The account the provider's `subject` has here, as plain values."""
    with runtime.session() as session:
        user = session.scalars(select(User).where(User.sso_subject == subject)).one_or_none()
        if user is None:
            return None
        return SimpleNamespace(
            id=user.id,
            username=user.username,
            display_name=user.display_name,
            password_hash=user.password_hash,
            sso_issuer=user.sso_issuer,
            roles=user.roles,
            role_groups=user.role_groups,
        )


def test_the_first_login_makes_the_account_with_the_mapped_roles(
    browser: TestClient[Any], provider: OidcProvider, sso_runtime: Runtime
) -> None:
    subject = new_subject()
    provider.set_user(
        subject,
        preferred_username=f"{subject}@contoso.example",
        name="Aino Mäkelä",
        groups=["cs-agents", "cs-quality", "canteen-committee"],
    )
    answer = sso_log_in(browser, provider, subject, next="/search")
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/search"
    assert browser.get("/search").status_code == 200
    user = account(sso_runtime, subject)
    assert user is not None
    assert user.username == subject
    assert user.display_name == "Aino Mäkelä"
    assert user.password_hash is None
    assert user.sso_issuer == provider.issuer
    # Groups the mapping does not know give nothing.
    assert user.role_groups == {Role.AGENT: "cs-agents", Role.QUALITY: "cs-quality"}
    made = records(sso_runtime, "user:sso:provision")[-1]
    assert made.actor == subject
    roles = records(sso_runtime, "user:sso:roles")[-1]
    assert f"role:agent:{group_id('cs-agents')}" in roles.targets
    assert f"role:quality:{group_id('cs-quality')}" in roles.targets
    assert records(sso_runtime, "user:login:sso")[-1].actor_id == user.id


def test_the_session_lasts_as_long_as_the_setting_says(
    browser: TestClient[Any], provider: OidcProvider, sso_runtime: Runtime
) -> None:
    subject = person(provider, ["cs-agents"])
    sso_log_in(browser, provider, subject)
    with sso_runtime.session() as session:
        token = session.scalars(
            select(AccessToken).join(User).where(User.sso_subject == subject)
        ).one()
        lasts = token.expires_at - token.created_at
    assert lasts.total_seconds() == sso_runtime.settings.oidc_session_minutes * 60


def test_a_later_login_brings_the_name_and_the_groups_up_to_date(
    browser: TestClient[Any], provider: OidcProvider, sso_runtime: Runtime
) -> None:
    subject = new_subject()
    provider.set_user(subject, preferred_username=subject, name="Old", groups=["cs-agents"])
    sso_log_in(browser, provider, subject)
    provider.set_user(subject, preferred_username=subject, name="New", groups=["cs-quality"])
    assert sso_log_in(browser, provider, subject).status_code == 303
    user = account(sso_runtime, subject)
    assert user is not None
    assert user.display_name == "New"
    # Removed from cs-agents at the provider: the agent role is gone with it.
    assert user.role_groups == {Role.QUALITY: "cs-quality"}


def test_removed_from_every_group_means_no_role_and_no_session(
    browser: TestClient[Any], provider: OidcProvider, sso_runtime: Runtime
) -> None:
    subject = person(provider, ["cs-agents"])
    sso_log_in(browser, provider, subject)
    provider.set_user(subject, preferred_username=subject, groups=["canteen-committee"])
    browser.cookies.clear()
    answer = sso_log_in(browser, provider, subject)
    assert answer.status_code == 403
    assert "give you no role here" in answer.text
    assert SESSION_COOKIE not in browser.cookies
    user = account(sso_runtime, subject)
    assert user is not None
    assert user.roles == frozenset()
    refused = records(sso_runtime, "user:login:sso:failed")[-1]
    assert refused.outcome == "denied"
    assert "reason:no-role" in refused.targets
    assert refused.actor_id == user.id


def test_a_pending_line_of_the_mapping_grants_nothing(
    browser: TestClient[Any], provider: OidcProvider, sso_runtime: Runtime
) -> None:
    with sso_runtime.session() as session:
        session.add(
            GroupRole(
                group_name="would-be-admins",
                role=Role.ADMIN.value,
                state=MappingState.PENDING,
                requested_by="adam.admin",
                requested_at=sso_runtime.clock.now(),
            )
        )
        session.commit()
    subject = person(provider, ["would-be-admins"])
    assert sso_log_in(browser, provider, subject).status_code == 403


def test_an_answer_from_another_browser_is_refused(
    browser: TestClient[Any], provider: OidcProvider, sso_runtime: Runtime
) -> None:
    subject = person(provider, ["cs-agents"])
    went = browser.get("/sso/login", follow_redirects=False)
    back = urlsplit(provider.log_in(went.headers["location"], subject))
    browser.cookies.clear()  # another browser: it never began this login
    answer = browser.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert answer.status_code == 401
    assert "expired or was already used" in answer.text
    assert "reason:state" in records(sso_runtime, "user:login:sso:failed")[-1].targets
    assert account(sso_runtime, subject) is None


def test_a_state_that_does_not_match_is_refused(
    browser: TestClient[Any], provider: OidcProvider, sso_runtime: Runtime
) -> None:
    subject = person(provider, ["cs-agents"])
    went = browser.get("/sso/login", follow_redirects=False)
    back = parse_qs(urlsplit(provider.log_in(went.headers["location"], subject)).query)
    answer = browser.get(
        "/sso/callback",
        params={"code": back["code"][0], "state": "another-state"},
        follow_redirects=False,
    )
    assert answer.status_code == 401
    assert SESSION_COOKIE not in browser.cookies


def test_an_answer_is_taken_once(
    browser: TestClient[Any], provider: OidcProvider, sso_runtime: Runtime
) -> None:
    subject = person(provider, ["cs-agents"])
    went = browser.get("/sso/login", follow_redirects=False)
    state = browser.cookies.get("archive_sso_state")
    back = urlsplit(provider.log_in(went.headers["location"], subject))
    assert browser.get(f"{back.path}?{back.query}", follow_redirects=False).status_code == 303
    # The same answer replayed, with the state cookie put back: its state (and the nonce that
    # went with it) is spent.
    browser.cookies.clear()
    browser.cookies.set("archive_sso_state", state or "", domain="archive.example", path="/sso")
    again = browser.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert again.status_code == 401
    assert "reason:state" in records(sso_runtime, "user:login:sso:failed")[-1].targets


def test_the_person_cancelling_at_the_provider_is_a_clear_page(
    browser: TestClient[Any], sso_runtime: Runtime
) -> None:
    answer = browser.get(
        "/sso/callback", params={"error": "access_denied", "state": "x"}, follow_redirects=False
    )
    assert answer.status_code == 401
    assert "did not log you in" in answer.text
    assert "reason:provider" in records(sso_runtime, "user:login:sso:failed")[-1].targets


def test_an_id_token_that_fails_a_check_is_refused_with_a_record(
    browser: TestClient[Any],
    provider: OidcProvider,
    sso_runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    subject = person(provider, ["cs-agents"])
    real_exchange = Provider.exchange

    def tampered(self: Provider, code: str, code_verifier: str) -> str:
        # What the provider answered, with its claims changed after it signed them.
        header, claims, signature = real_exchange(self, code, code_verifier).split(".")
        return ".".join(
            [header, claims[:-4] + ("AAAA" if claims[-4:] != "AAAA" else "BBBB"), signature]
        )

    monkeypatch.setattr(Provider, "exchange", tampered)
    answer = sso_log_in(browser, provider, subject)
    assert answer.status_code == 401
    assert "did not pass the archive" in answer.text
    assert "reason:signature" in records(sso_runtime, "user:login:sso:failed")[-1].targets
    assert account(sso_runtime, subject) is None


def test_the_provider_rotating_its_keys_is_followed(
    browser: TestClient[Any],
    provider: OidcProvider,
    sso_runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    subject = person(provider, ["cs-agents"])
    assert sso_log_in(browser, provider, subject).status_code == 303
    provider.rotate_keys()
    # The keys are fetched again for a token they do not verify, at most once in a while;
    # here "a while" has passed.
    monkeypatch.setattr(provider_module, "REFETCH_SECONDS", 0.0)
    browser.cookies.clear()
    assert sso_log_in(browser, provider, subject).status_code == 303


def test_a_name_of_a_local_account_gives_no_way_into_it(
    browser: TestClient[Any], provider: OidcProvider, sso_runtime: Runtime
) -> None:
    with sso_runtime.session() as session:
        AccountService(session, sso_runtime).add_user(
            "adam.admin", roles=[Role.ADMIN], password="plum-harbour-violin-42"
        )
        session.commit()
    subject = new_subject()
    provider.set_user(subject, preferred_username="adam.admin", groups=["cs-agents"])
    answer = sso_log_in(browser, provider, subject)
    assert answer.status_code == 401
    assert "already has your user name" in answer.text
    assert "reason:username-taken" in records(sso_runtime, "user:login:sso:failed")[-1].targets
    with sso_runtime.session() as session:
        local = AccountService(session, sso_runtime).get("adam.admin")
        assert local.sso_subject is None
        assert local.roles == {Role.ADMIN}


def test_an_account_disabled_here_stays_out(
    browser: TestClient[Any], provider: OidcProvider, sso_runtime: Runtime
) -> None:
    subject = person(provider, ["cs-agents"])
    sso_log_in(browser, provider, subject)
    with sso_runtime.session() as session:
        AccountService(session, sso_runtime).disable(subject)
        session.commit()
    browser.cookies.clear()
    answer = sso_log_in(browser, provider, subject)
    assert answer.status_code == 403
    assert "disabled" in answer.text


def test_the_audit_record_names_the_group_behind_the_role_used(
    browser: TestClient[Any], provider: OidcProvider, sso_runtime: Runtime
) -> None:
    subject = person(provider, ["cs-agents"])
    sso_log_in(browser, provider, subject)
    assert browser.get("/customers", params={"q": "virtanen"}).status_code == 200
    with sso_runtime.session() as session:
        used = session.execute(
            select(AuditRecord.role, AuditRecord.role_group)
            .where(AuditRecord.actor == subject, AuditRecord.role.is_not(None))
            .order_by(AuditRecord.id.desc())
        ).first()
    assert used is not None
    assert tuple(used) == ("agent", "cs-agents")


def test_logging_out_goes_on_to_the_providers_logout(
    browser: TestClient[Any], provider: OidcProvider, sso_runtime: Runtime
) -> None:
    subject = person(provider, ["cs-agents"])
    sso_log_in(browser, provider, subject)
    answer = browser.post("/logout", data={"_csrf_token": csrf(browser)}, follow_redirects=False)
    assert answer.status_code == 200
    assert "You have logged out of the archive" in answer.text
    link = answer.text.split("url=", 1)[1].split('"', 1)[0].replace("&amp;", "&")
    target = urlsplit(link)
    assert f"{target.scheme}://{target.netloc}" == provider.issuer
    query = parse_qs(target.query)
    assert query["client_id"] == [CLIENT_ID]
    assert query["post_logout_redirect_uri"] == ["https://archive.example/login?out=1"]
    assert SESSION_COOKIE not in browser.cookies
    assert browser.get("/customers", follow_redirects=False).status_code in (302, 303)


@pytest.mark.parametrize("amr", [["pwd", "mfa"], ["hwk", "pin"], ["pwd", "otp"], ["mfa"]])
def test_a_second_factor_at_the_provider_counts(
    browser: TestClient[Any], provider: OidcProvider, sso_runtime: Runtime, amr: list[str]
) -> None:
    subject = person(provider, ["privacy-office"], amr=amr)
    assert sso_log_in(browser, provider, subject).status_code == 303
    with sso_runtime.session() as session:
        token = session.scalars(
            select(AccessToken).join(User).where(User.sso_subject == subject)
        ).one()
        assert token.mfa


def test_roles_that_need_a_factor_the_provider_did_not_show_use_the_archives_own(
    settings: Settings, keys: KeyMaterial, provider: OidcProvider
) -> None:
    with (
        sso_archive(settings, keys, provider.issuer, require_mfa=True) as runtime,
        TestClient(app=create_app(runtime=runtime), base_url=ORIGIN) as browser,
    ):
        subject = new_subject()
        provider.set_user(
            subject, preferred_username=subject, groups=["privacy-office"], amr=["pwd"]
        )
        refused = sso_log_in(browser, provider, subject)
        assert refused.status_code == 403
        assert "need a second factor" in refused.text
        assert "reason:no-factor" in records(runtime, "user:login:sso:failed")[-1].targets
        with runtime.session() as session:
            uri = AccountService(session, runtime).set_totp(subject)
            session.commit()
        asked = sso_log_in(browser, provider, subject)
        assert asked.status_code == 200
        assert 'name="totp_code"' in asked.text
        wrong = browser.post(
            "/sso/code",
            data={"_csrf_token": csrf(browser), "ticket": ticket_of(asked), "totp_code": "000000"},
            follow_redirects=False,
        )
        assert wrong.status_code == 401
        # The ticket went with the wrong code: one guess per login at the provider.
        asked = sso_log_in(browser, provider, subject)
        code = pyotp.parse_uri(uri).now()
        done = browser.post(
            "/sso/code",
            data={"_csrf_token": csrf(browser), "ticket": ticket_of(asked), "totp_code": code},
            follow_redirects=False,
        )
        assert done.status_code == 303, done.text
        with runtime.session() as session:
            token = session.scalars(
                select(AccessToken)
                .join(User)
                .where(User.sso_subject == subject, AccessToken.revoked_at.is_(None))
            ).one()
            assert token.mfa


def ticket_of(page: Any) -> str:
    return str(page.text.split('name="ticket" value="', 1)[1].split('"', 1)[0])


@pytest.mark.parametrize(
    "amr",
    [["pwd"], ["pwd", "kba"], ["otp"], ["pwd", "pin"]],
    ids=["pwd", "two-known", "otp", "pin"],
)
def test_what_is_no_second_factor(
    settings: Settings, keys: KeyMaterial, provider: OidcProvider, amr: list[str]
) -> None:
    # Two things known are one factor; one thing held alone is one factor.
    with (
        sso_archive(settings, keys, provider.issuer, require_mfa=True) as runtime,
        TestClient(app=create_app(runtime=runtime), base_url=ORIGIN) as browser,
    ):
        subject = person(provider, ["privacy-office"], amr=amr)
        assert sso_log_in(browser, provider, subject).status_code == 403


# Group names as providers send them: a Keycloak path, an Okta name with spaces and dots, an
# Entra ID object id, and a long one.
REAL_GROUPS = [
    "/contact-centre/agents",
    "CS Agents (Helsinki) v2.0",
    "3f2504e0-4f89-41d3-9a0c-0305e82c3301",
    "customer-service-" + "x" * 160,
]


@pytest.mark.parametrize("group", REAL_GROUPS, ids=["path", "spaces", "entra", "long"])
def test_real_group_names_grant_their_roles(
    settings: Settings, keys: KeyMaterial, provider: OidcProvider, group: str
) -> None:
    with (
        sso_archive(settings, keys, provider.issuer) as runtime,
        TestClient(app=create_app(runtime=runtime), base_url=ORIGIN) as browser,
    ):
        map_groups(runtime, {group: Role.AGENT})
        subject = person(provider, [group])
        assert sso_log_in(browser, provider, subject).status_code == 303
        assert browser.get("/customers", params={"q": "virtanen"}).status_code == 200
        user = account(runtime, subject)
        assert user is not None
        assert user.role_groups == {Role.AGENT: group}
        with runtime.session() as session:
            used = session.execute(
                select(AuditRecord.role_group).where(
                    AuditRecord.actor == subject, AuditRecord.role == "agent"
                )
            ).scalar()
        assert used == group


def test_someone_the_mapping_gives_nothing_gets_no_account(
    browser: TestClient[Any], provider: OidcProvider, sso_runtime: Runtime
) -> None:
    subject = new_subject()
    provider.set_user(subject, preferred_username="aino.makela", groups=["canteen-committee"])
    assert sso_log_in(browser, provider, subject).status_code == 403
    # No account, so the name is still free for the person it belongs to.
    assert account(sso_runtime, subject) is None
    with sso_runtime.session() as session:
        assert session.scalars(select(User).where(User.username == "aino.makela")).first() is None


def test_an_account_of_the_providers_has_no_api_tokens(
    browser: TestClient[Any], provider: OidcProvider, sso_runtime: Runtime
) -> None:
    subject = person(provider, ["cs-agents"])
    sso_log_in(browser, provider, subject)
    asked = browser.post(
        "/api/v1/auth/tokens",
        json={"name": "my script", "expires_at": "2099-01-01T00:00:00Z"},
        headers={"X-CSRF-Token": csrf(browser)},
    )
    assert asked.status_code == 409, asked.text
    assert "sessions only" in asked.json()["detail"]


def test_a_state_in_any_script_is_a_refusal_not_an_error(
    browser: TestClient[Any], sso_runtime: Runtime
) -> None:
    browser.cookies.set("archive_sso_state", "abc", domain="archive.example", path="/sso")
    answer = browser.get(
        "/sso/callback", params={"code": "x", "state": "tila-ä-🙂"}, follow_redirects=False
    )
    assert answer.status_code == 401
    assert "reason:state" in records(sso_runtime, "user:login:sso:failed")[-1].targets


def test_an_administrator_decides_no_line_for_a_group_they_are_in(
    browser: TestClient[Any], provider: OidcProvider, sso_runtime: Runtime
) -> None:
    # An administrator through the provider who is also in cs-quality: a line granting
    # cs-quality the privacy role would give them privacy too.
    subject = person(provider, ["archive-admins", "cs-quality"])
    assert sso_log_in(browser, provider, subject).status_code == 303
    headers = {"X-CSRF-Token": csrf(browser)}
    line = {"group": "cs-quality", "role": "privacy"}
    asked = browser.post("/api/v1/sso/group-roles", json=line, headers=headers)
    assert asked.status_code == 403, asked.text
    assert "you are in the group" in asked.json()["detail"]
    # Asked for by someone else (at the console, where lines need no approval, so put one
    # in waiting by hand), they may not approve it either.
    with sso_runtime.session() as session:
        session.add(
            GroupRole(
                group_name="cs-quality",
                role="privacy",
                state=MappingState.PENDING,
                requested_by="olli.admin",
                requested_at=sso_runtime.clock.now(),
            )
        )
        session.commit()
    approved = browser.post("/api/v1/sso/group-roles/approve", json=line, headers=headers)
    assert approved.status_code == 403
    # A group they are not in is theirs to ask for.
    other = browser.post(
        "/api/v1/sso/group-roles",
        json={"group": "cs-night-shift", "role": "agent"},
        headers=headers,
    )
    assert other.status_code == 202, other.text


def test_the_audit_page_shows_the_group_behind_the_role(
    browser: TestClient[Any], provider: OidcProvider, sso_runtime: Runtime
) -> None:
    subject = person(provider, ["internal-audit"])
    sso_log_in(browser, provider, subject)
    page = browser.get("/audit")
    assert page.status_code == 200
    # Reading the trail is recorded in it; the next read shows that record, with its group.
    page = browser.get("/audit")
    assert "from group" in page.text
    assert "<code>internal-audit</code>" in page.text


@pytest.mark.parametrize("name", ["support@contoso.example", "ä@contoso.example", None])
def test_a_name_that_makes_no_user_name_is_refused(
    browser: TestClient[Any], provider: OidcProvider, sso_runtime: Runtime, name: str | None
) -> None:
    # A shared login's name is refused as it is for local accounts; so is one with nothing
    # left once its accents are dropped, and none at all.
    subject = new_subject()
    provider.set_user(subject, preferred_username=name, groups=["cs-agents"])
    answer = sso_log_in(browser, provider, subject)
    assert answer.status_code == 401
    assert "no user name this archive can use" in answer.text
    assert "reason:username" in records(sso_runtime, "user:login:sso:failed")[-1].targets
    assert account(sso_runtime, subject) is None
