"""API tokens of personal accounts made through the real services, and clients that send them."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from litestar.testing import TestClient

from archive.accounts.models import Role
from archive.accounts.service import AccountService
from archive.runtime import Runtime


def api_token(runtime: Runtime, username: str, roles: Iterable[Role]) -> str:
    """A personal account holding `roles`, and an API token of it, through the real services."""
    with runtime.session() as session:
        service = AccountService(session, runtime)
        service.add_user(username, roles=list(roles), password=None)
        expires = runtime.clock.now() + timedelta(days=1)
        _token, secret = service.issue_api_token(username, name="tests", expires_at=expires)
        session.commit()
    return secret


def authorised(client: TestClient[Any], secret: str) -> TestClient[Any]:
    client.headers["Authorization"] = f"Bearer {secret}"
    return client


def bearer(runtime: Runtime, role: Role) -> dict[str, str]:
    """Headers of a fresh API token for a new user holding `role`."""
    secret = api_token(runtime, f"{role}.{uuid.uuid4().hex[:6]}", [role])
    return {"Authorization": f"Bearer {secret}"}
