"""A real OpenID Connect provider for the single sign-on tests: `oidc-provider-mock`, a Flask
application built on Authlib's provider, served over HTTP on a free port of this machine.

It publishes a discovery document and its keys, shows a login form at its authorization
endpoint (a subject to log in as, which a test or a browser fills in), exchanges codes for
ID tokens that carry the claims a test gave the subject, and has an end-session endpoint. What
it cannot do by itself, the tests do through this module: rotate its signing key, and sign
tokens of their own with its key (a back-channel logout token, or an ID token with one claim
wrong) to see each check refuse them.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

import flask
import httpx
import werkzeug.serving
from joserfc import jwt
from joserfc.jwk import RSAKey as SigningKey

from archive.sso.provider import BACKCHANNEL_EVENT


class OidcProvider:
    """The running provider: its issuer address, and what a test may ask of it."""

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer
        self._storage: Any = None
        self._rotate = threading.Event()

    def set_user(self, subject: str, **claims: Any) -> None:
        """The claims the provider puts in `subject`'s ID tokens from now on."""
        answer = httpx.put(f"{self.issuer}/users/{subject}", json=claims, timeout=10)
        answer.raise_for_status()

    def log_in(self, authorization_url: str, subject: str) -> str:
        """Log in at the provider's form as `subject`; the address it sends the browser back
        to (the archive's callback, with a code and the state)."""
        answer = httpx.post(authorization_url, data={"sub": subject}, timeout=10)
        if answer.status_code != 302:
            raise AssertionError(f"the provider answered {answer.status_code}: {answer.text}")
        return answer.headers["location"]

    def rotate_keys(self) -> None:
        """The provider signs with a new key from its next request on, and publishes only it."""
        self._rotate.set()
        httpx.get(f"{self.issuer}/jwks", timeout=10).raise_for_status()

    def signing_key(self) -> SigningKey:
        """The key the provider signs with now."""
        if self._storage is None:
            httpx.get(f"{self.issuer}/jwks", timeout=10).raise_for_status()
        return SigningKey.import_key(self._storage.jwk.as_dict(is_private=True))

    def sign(self, claims: dict[str, Any], *, key: SigningKey | None = None) -> str:
        """A token with these claims, signed with the provider's key (or `key`)."""
        return jwt.encode({"alg": "RS256"}, claims, key or self.signing_key())

    def logout_token(self, audience: str, **claims: Any) -> str:
        """A back-channel logout token as the provider would send one; `claims` add or
        replace claims (a `None` value leaves that claim out)."""
        now = int(time.time())
        document: dict[str, Any] = {
            "iss": self.issuer,
            "aud": audience,
            "iat": now,
            "exp": now + 120,
            "jti": uuid.uuid4().hex,
            "events": {BACKCHANNEL_EVENT: {}},
        }
        document.update(claims)
        return self.sign({k: v for k, v in document.items() if v is not None})

    # Called by the provider's app before each request it serves.
    def _before_request(self) -> None:
        storage = flask.g.oidc_provider_mock_storage
        self._storage = storage
        if self._rotate.is_set():
            from authlib.jose import RSAKey  # the key type the provider signs with

            self._rotate.clear()
            storage.jwk = RSAKey.generate_key(is_private=True)


def callback_query(location: str) -> dict[str, str]:
    """The code and state of the address the provider sends the browser back to."""
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


@contextmanager
def oidc_provider() -> Iterator[OidcProvider]:
    """A provider on a free port of localhost, for as long as the block lasts."""
    # Imported here, where the tests' warning filters apply: it imports Authlib's older modules.
    import oidc_provider_mock

    app = oidc_provider_mock.app(require_nonce=True)
    server = werkzeug.serving.make_server("localhost", 0, app, threaded=True)
    provider = OidcProvider(f"http://localhost:{server.server_port}")
    app.before_request(provider._before_request)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
