"""What the tests of what a page reads beside its contacts share: the moment they run at, the
statements naming a table, and a hold placed by the quality team."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar.testing import TestClient

from archive.accounts.models import Role
from archive.runtime import Runtime
from archive.testing.tokens import bearer

NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
HOLDS = "/api/v1/holds"


def naming(sent: list[str], table: str) -> list[str]:
    """The statements that read `table`."""
    return [sql for sql in sent if f"FROM {table} " in sql or f"JOIN {table} " in sql]


def place(client: TestClient[Any], runtime: Runtime, **body: Any) -> str:
    """A hold placed through the API by the quality team; its id."""
    answer = client.post(
        HOLDS,
        json={"reason": "complaint", "reference": "REK-1", **body},
        headers=bearer(runtime, Role.QUALITY),
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])
