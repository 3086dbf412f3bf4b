"""Single sign-on against a real OpenID Connect provider running on this machine."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from archive.app import create_app
from archive.crypto.keyring import KeyMaterial
from archive.runtime import Runtime
from archive.settings import Settings
from archive.testing.oidc import OidcProvider, oidc_provider
from sso.signing_in import ORIGIN, sso_archive


@pytest.fixture(scope="session")
def provider() -> Iterator[OidcProvider]:
    with oidc_provider() as running:
        yield running


@pytest.fixture
def sso_runtime(settings: Settings, keys: KeyMaterial, provider: OidcProvider) -> Iterator[Runtime]:
    with sso_archive(settings, keys, provider.issuer) as built:
        yield built


@pytest.fixture
def browser(sso_runtime: Runtime) -> Iterator[TestClient[Any]]:
    with TestClient(app=create_app(runtime=sso_runtime), base_url=ORIGIN) as client:
        yield client
