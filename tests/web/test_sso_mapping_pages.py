"""The administrators' page of the group mapping, and the user pages of single sign-on accounts,
whose roles show the group they came from and cannot be edited."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from browsing import PASSWORD, csrf, log_in
from litestar.testing import TestClient

from archive.accounts.models import Role
from archive.accounts.service import AccountService
from archive.runtime import Runtime
from archive.sso.mapping import apply_roles

PAGE = "/admin/sso-groups"
SECOND = "olga.admin"
GROUP = "/archive/agents & quality"


@pytest.fixture
def runtime(runtime: Runtime) -> Runtime:
    """A second administrator, and sanna.sso, whose groups gave her agent and auditor."""
    with runtime.session() as session:
        service = AccountService(session, runtime)
        service.add_user(SECOND, roles=[Role.ADMIN], password=PASSWORD)
        user, _uri = service.add_user("sanna.sso", roles=[], password=None)
        user.sso_issuer = "https://login.example.fi"
        user.sso_subject = "0b5e6a1c"
        apply_roles(session, user, {Role.AGENT: "archive-agents", Role.AUDITOR: "auditors"})
        session.commit()
    return runtime


def as_user(browser: TestClient[Any], username: str) -> TestClient[Any]:
    browser.cookies.clear()
    assert log_in(browser, username).status_code == 303
    return browser


def post(browser: TestClient[Any], path: str, **fields: str) -> Any:
    return browser.post(path, data={"_csrf_token": csrf(browser), **fields}, follow_redirects=False)


def lines(page: str) -> list[str]:
    """Each line's row as text: group, role, state, and its buttons' words."""
    rows = re.findall(r'<tr class="line [^"]*"[^>]*>(.*?)</tr>', page, re.S)
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", row)).split()) for row in rows]


def test_a_line_asked_for_waits_for_the_second_administrator(browser: TestClient[Any]) -> None:
    admin = as_user(browser, "adam.admin")
    page = admin.get(PAGE)
    assert page.status_code == 200
    assert f'href="{PAGE}"' in page.text  # in the navigation, beside users and approvals
    assert "No group grants a role yet." in page.text

    asked = post(admin, PAGE, group=f"  {GROUP} ", role="agent")
    assert (asked.status_code, asked.headers["location"]) == (303, f"{PAGE}?done=requested")
    page = admin.get(asked.headers["location"]).text
    assert "it grants nothing until a second administrator approves it" in page
    [row] = lines(page)
    assert row.startswith(f"{GROUP} agent waits for a second administrator adam.admin")
    assert "Approve" not in row  # not the one who asked
    assert "Withdraw" in row
    assert post(admin, f"{PAGE}/approve", group=GROUP, role="agent").status_code == 403

    second = as_user(browser, SECOND)
    [row] = lines(second.get(PAGE).text)
    assert "Approve" in row
    approved = post(second, f"{PAGE}/approve", group=GROUP, role="agent")
    assert approved.headers["location"] == f"{PAGE}?done=approved"
    [row] = lines(second.get(PAGE).text)
    assert row.startswith(f"{GROUP} agent active adam.admin")
    assert SECOND in row
    assert "Remove the line" in row

    removed = post(second, f"{PAGE}/remove", group=GROUP, role="agent")
    assert removed.headers["location"] == f"{PAGE}?done=removed"
    assert lines(second.get(PAGE).text) == []


def test_even_an_auditor_line_waits_and_a_pending_one_is_withdrawn(
    browser: TestClient[Any],
) -> None:
    admin = as_user(browser, "adam.admin")
    done = post(admin, PAGE, group="auditors", role="auditor")
    assert done.headers["location"] == f"{PAGE}?done=requested"
    post(admin, PAGE, group="privacy-team", role="privacy")
    withdrawn = post(admin, f"{PAGE}/remove", group="privacy-team", role="privacy")
    assert withdrawn.headers["location"] == f"{PAGE}?done=withdrawn"
    assert [row.split()[:3] for row in lines(admin.get(PAGE).text)] == [
        ["auditors", "auditor", "waits"]
    ]


@pytest.mark.parametrize(
    ("group", "role", "said"),
    [
        ("", "agent", "group: the provider's group name"),
        ("agents\u202eevil", "agent", "without control or invisible characters"),
        ("agents", "ingest", "role: a group grants one of"),
    ],
)
def test_a_bad_line_is_refused_on_the_page(
    browser: TestClient[Any], group: str, role: str, said: str
) -> None:
    admin = as_user(browser, "adam.admin")
    answer = post(admin, PAGE, group=group, role=role)
    assert answer.status_code == 422
    assert said in html.unescape(answer.text)
    assert 'aria-invalid="true"' in answer.text
    assert lines(answer.text) == []


def test_a_second_request_for_a_line_is_refused(browser: TestClient[Any]) -> None:
    admin = as_user(browser, "adam.admin")
    post(admin, PAGE, group="agents", role="agent")
    again = post(admin, PAGE, group="agents", role="agent")
    assert again.status_code == 409
    assert "already has a line for agent" in html.unescape(again.text)


@pytest.mark.parametrize("who", ["anna.agent", "aud.auditor", "pia.privacy"])
def test_only_administrators_see_the_page(browser: TestClient[Any], who: str) -> None:
    other = as_user(browser, who)
    assert other.get(PAGE).status_code == 403
    assert post(other, PAGE, group="agents", role="agent").status_code == 403
    assert f'href="{PAGE}"' not in other.get("/").text


def test_a_single_sign_on_accounts_roles_show_their_group_and_no_edit_control(
    browser: TestClient[Any],
) -> None:
    admin = as_user(browser, "adam.admin")
    page = admin.get("/admin/users/sanna.sso").text
    roles = re.search(r'<dd id="account-roles">(.*?)</dd>', page, re.S)
    assert roles is not None
    shown = " ".join(re.sub(r"<[^>]+>", " ", roles.group(1)).split())
    assert shown == "agent (from group archive-agents ) , auditor (from group auditors )"
    assert 'id="sso-roles"' in page
    assert 'action="/admin/users/sanna.sso/roles"' not in page
    listing = admin.get("/admin/users").text
    assert "from group" in listing
    assert "roles come from the identity provider" in html.unescape(listing)
    # A form posted anyway is refused, and the roles stay.
    refused = post(admin, "/admin/users/sanna.sso/roles", role_admin="1")
    assert refused.status_code == 409
    assert "identity provider's groups" in html.unescape(refused.text)


def test_the_page_speaks_finnish_and_swedish(browser: TestClient[Any]) -> None:
    admin = as_user(browser, "adam.admin")
    post(admin, PAGE, group="agents", role="agent")
    for language, words in (("fi", ["Ryhmien roolit", "Ryhmä"]), ("sv", ["Gruppernas roller"])):
        admin.cookies.set("archive_lang", language)
        page = admin.get(PAGE).text
        for word in words:
            assert word in page
        assert "Group mapping" not in page
