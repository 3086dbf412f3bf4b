"""What the single sign-on tests share: the archive's settings for the provider, the group
mapping, and logging in the way a browser does."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from litestar.testing import TestClient

from archive.access.browser import CSRF_COOKIE
from archive.accounts.models import Role
from archive.crypto.keyring import KeyMaterial
from archive.db.migrate import upgrade
from archive.runtime import Runtime, build_runtime
from archive.settings import Settings
from archive.sso.models import GroupRole, MappingState
from archive.testing.oidc import OidcProvider

ORIGIN = "https://archive.example"
CLIENT_ID = "contact-archive"
# The groups the tests' mapping knows, as a contact centre's directory would name them.
MAPPING = {
    "cs-agents": Role.AGENT,
    "cs-quality": Role.QUALITY,
    "privacy-office": Role.PRIVACY,
    "archive-admins": Role.ADMIN,
    "internal-audit": Role.AUDITOR,
}


def sso_settings(settings: Settings, issuer: str, **changes: Any) -> Settings:
    return replace(
        settings,
        public_url=ORIGIN,
        oidc_issuer=issuer,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret="client-secret-of-the-archive",
        **changes,
    )


def map_groups(runtime: Runtime, mapping: dict[str, Role] = MAPPING) -> None:
    """The mapping's lines, as approved: what administrators set up before anyone logs in."""
    with runtime.session() as session:
        for group, role in mapping.items():
            session.add(
                GroupRole(
                    group_name=group,
                    role=role.value,
                    state=MappingState.ACTIVE,
                    requested_by="console:root",
                    requested_at=datetime.now(UTC),
                    approved_by="console:root",
                    approved_at=datetime.now(UTC),
                )
            )
        session.commit()


@contextmanager
def sso_archive(
    settings: Settings, keys: KeyMaterial, issuer: str, **changes: Any
) -> Iterator[Runtime]:
    """An archive whose people log in through the provider at `issuer`, with the mapping."""
    built = build_runtime(sso_settings(settings, issuer, **changes), keys=keys)
    try:
        if built.settings.is_embedded:
            upgrade(built.engine)
        map_groups(built)
        yield built
    finally:
        built.close()


def csrf(browser: TestClient[Any]) -> str:
    """The token a page's forms repeat; any page's answer sets its cookie."""
    if CSRF_COOKIE not in browser.cookies:
        browser.get("/login")
    token = browser.cookies.get(CSRF_COOKIE)
    assert token
    return token


def new_subject() -> str:
    # The provider is shared by the run: each test logs in people of its own.
    return f"person-{uuid.uuid4().hex[:10]}"


def person(provider: OidcProvider, groups: list[str], **claims: Any) -> str:
    """A new person at the provider, in `groups`, named by their subject; their subject."""
    subject = new_subject()
    provider.set_user(subject, preferred_username=subject, groups=groups, **claims)
    return subject


def sso_log_in(
    browser: TestClient[Any], provider: OidcProvider, subject: str, *, next: str = "/"
) -> Any:
    """Log in as the browser does: to the archive, on to the provider's form, and back."""
    went = browser.get("/sso/login", params={"next": next}, follow_redirects=False)
    assert went.status_code == 303, went.text
    back = urlsplit(provider.log_in(went.headers["location"], subject))
    return browser.get(f"{back.path}?{back.query}", follow_redirects=False)
