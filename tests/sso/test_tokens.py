"""The checks of an ID token, each shown refusing a token signed by the real provider's key (or
by another key) with one thing wrong."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from joserfc.jwk import RSAKey

from archive.settings import Settings
from archive.sso.provider import Provider, TokenRefused
from archive.testing.oidc import OidcProvider
from sso.signing_in import CLIENT_ID, sso_settings

NONCE = "nonce-of-this-login"


@pytest.fixture
def checker(provider: OidcProvider, tmp_path: Any) -> Provider:
    return Provider(sso_settings(Settings(data_dir=tmp_path), provider.issuer))


def id_token(provider: OidcProvider, **changes: Any) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": provider.issuer,
        "sub": "aino",
        "aud": [CLIENT_ID],
        "iat": now,
        "exp": now + 300,
        "nonce": NONCE,
    }
    claims.update(changes)
    return provider.sign({k: v for k, v in claims.items() if v is not None})


def refusal(checker: Provider, token: str, *, at: datetime | None = None) -> str:
    with pytest.raises(TokenRefused) as refused:
        checker.id_claims(token, nonce=NONCE, now=at or datetime.now(UTC))
    return refused.value.reason


def test_a_good_token_passes(checker: Provider, provider: OidcProvider) -> None:
    claims = checker.id_claims(id_token(provider), nonce=NONCE, now=datetime.now(UTC))
    assert claims["sub"] == "aino"


def test_a_token_for_another_client_is_refused(checker: Provider, provider: OidcProvider) -> None:
    assert refusal(checker, id_token(provider, aud=["another-app"])) == "audience"
    # Ours among several, but issued to ("authorized party") another.
    both = id_token(provider, aud=[CLIENT_ID, "another-app"], azp="another-app")
    assert refusal(checker, both) == "audience"


def test_a_token_from_another_issuer_is_refused(checker: Provider, provider: OidcProvider) -> None:
    assert refusal(checker, id_token(provider, iss="https://evil.example")) == "issuer"


def test_an_expired_token_is_refused(checker: Provider, provider: OidcProvider) -> None:
    later = datetime.now(UTC) + timedelta(hours=2)
    assert refusal(checker, id_token(provider), at=later) == "expired"
    past = int(time.time()) - 3600
    assert refusal(checker, id_token(provider, iat=past - 60, exp=past)) == "expired"


def test_a_token_signed_with_another_key_is_refused(
    checker: Provider, provider: OidcProvider
) -> None:
    stranger = RSAKey.generate_key(2048)
    claims = {"iss": provider.issuer, "sub": "aino", "aud": CLIENT_ID, "nonce": NONCE}
    now = int(time.time())
    forged = provider.sign({**claims, "iat": now, "exp": now + 60}, key=stranger)
    assert refusal(checker, forged) == "signature"


def test_a_token_with_no_signature_is_refused(checker: Provider, provider: OidcProvider) -> None:
    header, claims, _ = id_token(provider).split(".")
    assert refusal(checker, f"{header}.{claims}.") == "signature"
    # "alg": "none", the oldest trick.
    unsigned = "eyJhbGciOiJub25lIn0." + claims + "."
    assert refusal(checker, unsigned) == "signature"


def test_a_replayed_nonce_is_refused(checker: Provider, provider: OidcProvider) -> None:
    # A token from an earlier login carries that login's nonce, not this one's.
    assert refusal(checker, id_token(provider, nonce="an-earlier-login")) == "nonce"
    assert refusal(checker, id_token(provider, nonce=None)) == "nonce"


def test_a_token_without_a_subject_is_refused(checker: Provider, provider: OidcProvider) -> None:
    assert refusal(checker, id_token(provider, sub=None)) == "claims"


@pytest.mark.parametrize("token", ["", "a.b", "x" * 20000, "a.b.c"])
def test_garbage_is_refused(checker: Provider, token: str) -> None:
    assert refusal(checker, token) == "signature"


def test_the_discovery_document_must_name_its_issuer(provider: OidcProvider, tmp_path: Any) -> None:
    from archive.sso.provider import ProviderUnavailable

    # The provider at this address names itself without the trailing slash: the settings'
    # issuer must be the one its documents (and tokens) name, exactly.
    settings = sso_settings(Settings(data_dir=tmp_path), provider.issuer + "/")
    with pytest.raises(ProviderUnavailable, match="names the issuer"):
        Provider(replace(settings)).metadata()
