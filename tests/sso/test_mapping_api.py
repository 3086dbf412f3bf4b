"""The group mapping over HTTP: administrators change it under the four-eyes rule, auditors read
it, nobody else sees it; and the OpenAPI schema describes it."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from archive.accounts.models import Role
from archive.runtime import Runtime
from archive.sso.mapping import group_id
from archive.testing.tokens import api_token

LINES = "/api/v1/sso/group-roles"
KEYCLOAK_GROUP = "/archive/Asiakaspalvelu & laatu"


def bearer(runtime: Runtime, username: str, role: Role) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_token(runtime, username, [role])}"}


@pytest.fixture
def people(runtime: Runtime) -> dict[str, dict[str, str]]:
    return {
        "ada": bearer(runtime, "ada.admin", Role.ADMIN),
        "olli": bearer(runtime, "olli.admin", Role.ADMIN),
        "aud": bearer(runtime, "aud.auditor", Role.AUDITOR),
        "anna": bearer(runtime, "anna.agent", Role.AGENT),
    }


def test_a_guarded_line_waits_for_a_second_administrator(
    anonymous: TestClient[Any], people: dict[str, dict[str, str]]
) -> None:
    ada, olli = people["ada"], people["olli"]
    line = {"group": KEYCLOAK_GROUP, "role": "agent"}
    asked = anonymous.post(LINES, json=line, headers=ada)
    assert asked.status_code == 202
    body = asked.json()
    assert (body["group"], body["role"], body["state"]) == (KEYCLOAK_GROUP, "agent", "pending")
    assert (body["requested_by"], body["approved_by"]) == ("ada.admin", None)
    assert body["trail_id"] == group_id(KEYCLOAK_GROUP)
    assert anonymous.post(LINES, json=line, headers=olli).status_code == 409

    mine = anonymous.post(f"{LINES}/approve", json=line, headers=ada)
    assert mine.status_code == 403
    assert mine.headers["content-type"] == "application/problem+json"
    approved = anonymous.post(f"{LINES}/approve", json=line, headers=olli)
    assert approved.status_code == 200
    assert (approved.json()["state"], approved.json()["approved_by"]) == ("active", "olli.admin")
    assert anonymous.post(f"{LINES}/approve", json=line, headers=olli).status_code == 409

    auditors = anonymous.post(LINES, json={"group": "auditors", "role": "auditor"}, headers=ada)
    assert auditors.status_code == 202
    assert auditors.json()["state"] == "pending"
    listed = anonymous.get(LINES, headers=people["aud"])
    assert listed.status_code == 200
    assert [(x["group"], x["role"], x["state"]) for x in listed.json()] == [
        (KEYCLOAK_GROUP, "agent", "active"),
        ("auditors", "auditor", "pending"),
    ]


def test_removing_a_line_needs_nobody_else(
    anonymous: TestClient[Any], people: dict[str, dict[str, str]]
) -> None:
    ada = people["ada"]
    anonymous.post(LINES, json={"group": KEYCLOAK_GROUP, "role": "privacy"}, headers=ada)
    removed = anonymous.delete(
        LINES, params={"group": KEYCLOAK_GROUP, "role": "privacy"}, headers=ada
    )
    assert removed.status_code == 204
    assert anonymous.get(LINES, headers=ada).json() == []
    again = anonymous.delete(
        LINES, params={"group": KEYCLOAK_GROUP, "role": "privacy"}, headers=ada
    )
    assert again.status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"group": "", "role": "agent"},
        {"group": "x" * 201, "role": "agent"},
        {"group": "agents\u0000", "role": "agent"},
        {"group": "agents\r\nadmin", "role": "agent"},
        {"group": "agents", "role": "ingest"},
        {"group": "agents", "role": "owner"},
        {"group": 7, "role": "agent"},
        {"group": "agents"},
    ],
)
def test_bad_lines_get_a_clear_error(
    anonymous: TestClient[Any], people: dict[str, dict[str, str]], body: dict[str, Any]
) -> None:
    answer = anonymous.post(LINES, json=body, headers=people["ada"])
    assert answer.status_code in (400, 422), answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    approve = anonymous.post(f"{LINES}/approve", json=body, headers=people["olli"])
    assert approve.status_code in (400, 404, 422), approve.text
    assert anonymous.get(LINES, headers=people["ada"]).json() == []


def test_only_administrators_change_the_mapping_and_others_do_not_read_it(
    anonymous: TestClient[Any], people: dict[str, dict[str, str]]
) -> None:
    line = {"group": "auditors", "role": "auditor"}
    for who in ("aud", "anna"):
        assert anonymous.post(LINES, json=line, headers=people[who]).status_code == 403
        assert anonymous.delete(LINES, params=line, headers=people[who]).status_code == 403
        assert anonymous.post(f"{LINES}/approve", json=line, headers=people[who]).status_code == 403
    assert anonymous.get(LINES, headers=people["anna"]).status_code == 403
    assert anonymous.get(LINES).status_code == 401


def test_the_schema_describes_the_mapping(client: TestClient[Any]) -> None:
    paths = client.get("/schema/openapi.json").json()["paths"]
    assert set(paths[LINES]) >= {"get", "post", "delete"}
    assert "post" in paths[f"{LINES}/approve"]
