"""Single sign-on in a real browser against a real OpenID Connect provider: Chromium goes from
the archive's login page to the provider, logs in there, comes back with exactly the roles the
mapping gives the person's groups, and logs out of both."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect
from served import free_port, screenshot, serve
from sqlalchemy import select

from archive.accounts.models import Role, User
from archive.crypto.keyring import generate_key_material
from archive.db.migrate import upgrade
from archive.runtime import Runtime, build_runtime
from archive.settings import Settings
from archive.sso.models import GroupRole, MappingState
from archive.testing.oidc import OidcProvider, oidc_provider


@dataclass(frozen=True)
class SsoArchive:
    url: str
    runtime: Runtime
    provider: OidcProvider


@pytest.fixture(scope="module")
def sso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SsoArchive]:
    """An archive whose people log in through the provider, served for real."""
    port = free_port()
    with oidc_provider() as provider:
        settings = Settings(
            data_dir=tmp_path_factory.mktemp("sso-archive"),
            public_url=f"http://localhost:{port}",
            oidc_issuer=provider.issuer,
            oidc_client_id="contact-archive",
            oidc_client_secret="client-secret-of-the-archive",
        )
        runtime = build_runtime(settings, keys=generate_key_material())
        upgrade(runtime.engine)
        with runtime.session() as session:
            for group, role in (("cs-agents", Role.AGENT), ("archive-admins", Role.ADMIN)):
                now = datetime.now(UTC)
                session.add(
                    GroupRole(
                        group_name=group,
                        role=role.value,
                        state=MappingState.ACTIVE,
                        requested_by="console:root",
                        requested_at=now,
                        approved_by="console:root",
                        approved_at=now,
                    )
                )
            session.commit()
        try:
            with serve(runtime, port) as url:
                yield SsoArchive(url, runtime, provider)
        finally:
            runtime.close()


def test_an_agent_logs_in_through_the_provider_and_out_of_both(page: Page, sso: SsoArchive) -> None:
    sso.provider.set_user(
        "aino.virtanen",
        preferred_username="aino.virtanen@contoso.example",
        name="Aino Virtanen",
        groups=["cs-agents", "coffee-club"],
    )
    page.goto(sso.url + "/search")
    page.wait_for_url(lambda url: "/login" in url)
    screenshot(page, "sso-login")
    # Single sign-on comes first on the login page.
    page.get_by_role("link", name="Log in with single sign-on").click()

    # The provider's own login page.
    page.wait_for_url(lambda url: url.startswith(sso.provider.issuer))
    screenshot(page, "sso-provider")
    page.get_by_placeholder("sub").fill("aino.virtanen")
    page.get_by_role("button", name="Authorize").click()

    # Back at the page the agent asked for, as an agent and nothing more.
    page.wait_for_url(f"{sso.url}/search")
    screenshot(page, "sso-landed")
    expect(page.get_by_role("link", name="aino.virtanen")).to_be_visible()
    navigation = page.get_by_role("navigation").first
    expect(navigation).to_contain_text("Search")
    expect(navigation).not_to_contain_text("Users")
    assert page.goto(sso.url + "/admin/users").status == 403
    with sso.runtime.session() as session:
        user = session.scalars(select(User).where(User.sso_subject == "aino.virtanen")).one()
        assert user.role_groups == {Role.AGENT: "cs-agents"}

    # Out of the archive, then of the provider, then back on the archive's login page.
    page.goto(sso.url + "/search")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(lambda url: url.startswith(sso.provider.issuer))
    screenshot(page, "sso-provider-logout")
    page.get_by_role("button", name="End session").click()
    page.wait_for_url(lambda url: url.startswith(f"{sso.url}/login"))
    expect(page.get_by_role("status")).to_contain_text("You have logged out")
    page.goto(sso.url + "/search")
    page.wait_for_url(lambda url: "/login" in url)
