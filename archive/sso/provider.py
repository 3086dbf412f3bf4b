"""The OpenID Connect provider as the archive speaks to it: its discovery document and keys,
the authorization request (code flow with PKCE), the code exchange, and the checks of the ID
tokens and back-channel logout tokens it signs.

Authlib builds the requests and exchanges the code; joserfc checks the signatures and claims.
What an ID token must hold is OpenID Connect Core 1.0 §3.1.3.7; a logout token, OpenID Connect
Back-Channel Logout 1.0 §2.6. The discovery document and the keys are kept for a while, and
the keys fetched again at once when a token names a key the archive has not seen: that is how
a provider's key rotation looks from here.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar, cast
from urllib.parse import urlencode

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.jwk import KeySet

from archive.errors import ArchiveError
from archive.settings import Settings

# How long the provider may take to accept a connection, and to answer, before it counts as
# unreachable.
HTTP_SECONDS = (2.0, 5.0)
# How long a failed fetch is remembered: meanwhile nobody waits on the provider again.
FAILED_SECONDS = 15.0
# How long the discovery document and the keys are kept before they are asked for again.
KEPT_SECONDS = 3600.0
# At most one unplanned key fetch in this time: a token naming an unknown key cannot make the
# archive ask the provider for its keys on every request.
REFETCH_SECONDS = 10.0
# How far the provider's clock may be from the archive's.
LEEWAY_SECONDS = 60
# How old a token's `iat` may be: an ID token is used at once, a logout token sent at once.
MAX_AGE_SECONDS = 600
# Signatures accepted: asymmetric only. The client secret is not a signing key here, and
# "none" is never accepted.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
MAX_TOKEN_LENGTH = 16 * 1024
T = TypeVar("T")


class ProviderUnavailable(ArchiveError):
    """The provider could not be reached, or answered with something that is not OpenID."""

    advice = "the identity provider cannot be reached; try again later"


class TokenRefused(ArchiveError):
    """A token, or an answer from the provider, that fails a check. `reason` is a short,
    fixed word for the audit trail; `detail` says more, for the log."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True)
class Metadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    end_session_endpoint: str | None


class Provider:
    """One provider, as the settings name it. Safe to share between threads."""

    def __init__(self, settings: Settings) -> None:
        self.issuer = settings.oidc_issuer
        self.client_id = settings.oidc_client_id
        self._client_secret = settings.oidc_client_secret
        scopes = settings.oidc_scopes.split()
        self.scope = " ".join(["openid", *(s for s in scopes if s != "openid")])
        self.redirect_uri = settings.public_url.rstrip("/") + "/sso/callback"
        self._locks = {"metadata": threading.Lock(), "keys": threading.Lock()}
        self._kept: dict[str, tuple[float, Any]] = {}
        self._failed: dict[str, tuple[float, ProviderUnavailable]] = {}

    # --- what the provider publishes ------------------------------------------------------

    def metadata(self) -> Metadata:
        """The discovery document's endpoints (kept for an hour)."""
        return self._fetched("metadata", KEPT_SECONDS, self._fetch_metadata)

    def keys(self, *, again: bool = False) -> KeySet:
        """The provider's signing keys; `again` fetches them anew unless that was just done."""
        return self._fetched("keys", REFETCH_SECONDS if again else KEPT_SECONDS, self._fetch_keys)

    def _fetched(self, what: str, fresh_for: float, fetch: Callable[[], T]) -> T:
        """What was fetched last, if it is younger than `fresh_for`; else fetched again by one
        thread while the others wait for its answer.

        A fetch that fails is remembered for FAILED_SECONDS: while the provider is down, a
        burst of requests must not each wait out a timeout, tying up the threads that serve
        everything else. Meanwhile, what was fetched before is served, however old, if there
        is any: a provider that answers again later changes nothing in between.
        """
        lock = self._locks[what]
        with lock:
            now = time.monotonic()
            kept = self._kept.get(what)
            if kept is not None and now - kept[0] < fresh_for:
                return cast(T, kept[1])
            failed = self._failed.get(what)
            if failed is not None and now - failed[0] < FAILED_SECONDS:
                if kept is not None:
                    return cast(T, kept[1])
                raise failed[1]
            try:
                found = fetch()
            except ProviderUnavailable as error:
                self._failed[what] = (time.monotonic(), error)
                if kept is not None:
                    return cast(T, kept[1])
                raise
            self._failed.pop(what, None)
            self._kept[what] = (time.monotonic(), found)
            return found

    def _fetch_metadata(self) -> Metadata:
        document = self._get_json(self.issuer.rstrip("/") + "/.well-known/openid-configuration")
        if document.get("issuer") != self.issuer:
            # Discovery §4.3: the document must name the issuer it was fetched for, else
            # another provider's tokens could pass as this one's.
            raise ProviderUnavailable(
                f"the discovery document at {self.issuer} names the issuer "
                f"{document.get('issuer')!r}"
            )
        try:
            return Metadata(
                issuer=document["issuer"],
                authorization_endpoint=_url(document["authorization_endpoint"]),
                token_endpoint=_url(document["token_endpoint"]),
                jwks_uri=_url(document["jwks_uri"]),
                end_session_endpoint=(
                    _url(document["end_session_endpoint"])
                    if document.get("end_session_endpoint")
                    else None
                ),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ProviderUnavailable(
                f"the discovery document at {self.issuer} lacks an endpoint: {error}"
            ) from None

    def _fetch_keys(self) -> KeySet:
        document = self._get_json(self.metadata().jwks_uri)
        try:
            return KeySet.import_key_set(document)  # type: ignore[arg-type]
        except Exception as error:
            raise ProviderUnavailable(f"the provider's keys cannot be read: {error}") from None

    # --- the code flow --------------------------------------------------------------------

    def authorization_url(self, *, state: str, nonce: str, code_verifier: str) -> str:
        endpoint = self.metadata().authorization_endpoint
        with self._client() as client:
            url, _ = client.create_authorization_url(
                endpoint, state=state, nonce=nonce, code_verifier=code_verifier
            )
        return str(url)

    def exchange(self, code: str, code_verifier: str) -> str:
        """The ID token the provider gives for an authorization code."""
        endpoint = self.metadata().token_endpoint
        client = self._client()
        try:
            answer = client.fetch_token(
                endpoint,
                grant_type="authorization_code",
                code=code,
                code_verifier=code_verifier,
                timeout=HTTP_SECONDS,
            )
        except AuthlibBaseError as error:
            # The provider refused the code: used, expired, or not ours.
            raise TokenRefused("code", f"the provider refused the code: {error.error}") from None
        except (requests.RequestException, ValueError) as error:
            raise ProviderUnavailable(
                f"the token endpoint {endpoint} failed: {type(error).__name__}"
            ) from None
        finally:
            client.close()
        id_token = answer.get("id_token")
        if not isinstance(id_token, str):
            raise TokenRefused("id-token", "the provider's answer holds no ID token")
        return id_token

    def end_session_url(self, post_logout_redirect_uri: str) -> str | None:
        """Where to send the browser to log out at the provider too (RP-initiated logout),
        or None when the provider offers no such endpoint."""
        endpoint = self.metadata().end_session_endpoint
        if endpoint is None:
            return None
        query = urlencode(
            {"client_id": self.client_id, "post_logout_redirect_uri": post_logout_redirect_uri}
        )
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"

    # --- tokens ---------------------------------------------------------------------------

    def id_claims(self, id_token: str, *, nonce: str, now: datetime) -> dict[str, Any]:
        """The claims of an ID token once its signature, issuer, audience, times and nonce
        are checked (Core §3.1.3.7)."""
        claims = self._verified(id_token, now)
        if claims.get("nonce") != nonce:
            raise TokenRefused("nonce", "the ID token's nonce is not the one this login sent")
        self._check_times(claims, now, need_exp=True)
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise TokenRefused("claims", "the ID token names no subject")
        return claims

    def logout_claims(self, logout_token: str, *, now: datetime) -> dict[str, Any]:
        """The claims of a back-channel logout token once checked (Back-Channel Logout §2.6)."""
        claims = self._verified(logout_token, now)
        self._check_times(claims, now, need_exp=False)
        events = claims.get("events")
        if not isinstance(events, dict) or not isinstance(events.get(BACKCHANNEL_EVENT), dict):
            raise TokenRefused("claims", "the logout token carries no back-channel logout event")
        if "nonce" in claims:
            raise TokenRefused("claims", "a logout token must not carry a nonce")
        if not isinstance(claims.get("jti"), str) or not claims["jti"]:
            raise TokenRefused("claims", "the logout token has no jti")
        sub, sid = claims.get("sub"), claims.get("sid")
        if not (isinstance(sub, str) and sub) and not (isinstance(sid, str) and sid):
            raise TokenRefused("claims", "the logout token names neither a subject nor a session")
        return claims

    def _verified(self, token: str, now: datetime) -> dict[str, Any]:
        """The claims of a token signed by one of the provider's keys, issued by it for us."""
        if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_LENGTH:
            raise TokenRefused("signature", "no token, or one too long to be one")
        # Anything wrong with the token is a refusal, whatever joserfc raises for it: a header
        # that is no JSON object, a `crit` that is no list, ...
        try:
            decoded = jwt.decode(token, self.keys(), algorithms=ALGORITHMS)
        except ProviderUnavailable:
            raise
        except Exception as first:
            # Perhaps signed with a key the archive has not fetched yet: the provider rotated
            # its keys. The keys are fetched again once, unless that was done a moment ago.
            try:
                decoded = jwt.decode(token, self.keys(again=True), algorithms=ALGORITHMS)
            except ProviderUnavailable:
                raise
            except Exception:
                raise TokenRefused("signature", f"the token does not verify: {first}") from None
        claims = dict(decoded.claims)
        if claims.get("iss") != self.issuer:
            raise TokenRefused("issuer", f"the token's issuer is {claims.get('iss')!r}")
        audience = claims.get("aud")
        audiences = [audience] if isinstance(audience, str) else audience
        if not isinstance(audiences, list) or self.client_id not in audiences:
            raise TokenRefused("audience", "the token is not meant for this archive")
        azp = claims.get("azp")
        if (len(audiences) > 1 or azp is not None) and azp != self.client_id:
            raise TokenRefused("audience", "the token was issued to another party")
        return claims

    @staticmethod
    def _check_times(claims: dict[str, Any], now: datetime, *, need_exp: bool) -> None:
        at = now.timestamp()
        issued, expires = claims.get("iat"), claims.get("exp")
        if not isinstance(issued, int | float) or not math.isfinite(issued):
            raise TokenRefused("claims", "the token has no issue time")
        if issued > at + LEEWAY_SECONDS or issued < at - MAX_AGE_SECONDS - LEEWAY_SECONDS:
            raise TokenRefused("expired", "the token was not issued just now")
        if expires is None and not need_exp:
            return
        if not isinstance(expires, int | float) or not math.isfinite(expires):
            raise TokenRefused("claims", "the token has no expiry time")
        if expires < at - LEEWAY_SECONDS:
            raise TokenRefused("expired", "the token has expired")

    # --- plumbing -------------------------------------------------------------------------

    def _client(self) -> OAuth2Session:
        return OAuth2Session(
            self.client_id,
            self._client_secret,
            scope=self.scope,
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
        )

    @staticmethod
    def _get_json(url: str) -> dict[str, Any]:
        try:
            with requests.get(url, timeout=HTTP_SECONDS) as answer:
                answer.raise_for_status()
                document = answer.json()
        except (requests.RequestException, ValueError) as error:
            raise ProviderUnavailable(f"{url} failed: {type(error).__name__}") from None
        if not isinstance(document, dict):
            raise ProviderUnavailable(f"{url} did not answer with a JSON object")
        return document


def _url(value: object) -> str:
    if not isinstance(value, str) or not value.startswith(("https://", "http://")):
        raise ValueError(f"{value!r} is not an address")
    return value


_PROVIDERS: dict[tuple[str, str, str, str], Provider] = {}
_PROVIDERS_LOCK = threading.Lock()


def provider_of(settings: Settings) -> Provider:
    """The process's one `Provider` for these settings, so the cached keys are shared."""
    key = (
        settings.oidc_issuer,
        settings.oidc_client_id,
        settings.public_url,
        settings.oidc_scopes,
    )
    with _PROVIDERS_LOCK:
        found = _PROVIDERS.get(key)
        if found is None or found._client_secret != settings.oidc_client_secret:
            found = _PROVIDERS[key] = Provider(settings)
        return found
