"""No page shows a role a link, a button or a form it may not use.

Each role crawls the pages it can reach from the start page, over a world with a customer, a
call and an e-mail, holds, privacy cases of every kind and a deletion run; every link, form
and htmx request on every page must lead to a route the role's permissions open.
"""

from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest
from browsing import USERS, log_in
from litestar.testing import TestClient

from archive.access.guards import declared_permissions
from archive.access.permissions import ROLE_PERMISSIONS, Permission
from archive.access.viewer import SYSTEM
from archive.accounts.models import Role
from archive.app import create_app
from archive.holds.service import HoldRequest, HoldService
from archive.lifecycle.sweep import sweep
from archive.privacy.cases import CaseService
from archive.privacy.models import RequestKind
from archive.runtime import Runtime
from archive.testing.builders import ingest_call, ingest_email

MAX_PAGES = 60
SKIPPED = ("/logout", "/static/", "/schema")
Route = tuple[str, re.Pattern[str], Permission | None]


class Targets(HTMLParser):
    """The (method, address) of every link, form and htmx request on a page."""

    def __init__(self) -> None:
        super().__init__()
        self.found: set[tuple[str, str]] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "a" and values.get("href", "").startswith("/"):
            self.found.add(("GET", values["href"]))
        if tag == "form" and "action" in values:
            method = values.get("method", "get").upper()
            self.found.add((method, values["action"]))
        for attribute, method in (("hx-get", "GET"), ("hx-post", "POST")):
            if values.get(attribute, "").startswith("/"):
                self.found.add((method, values[attribute]))


def routes(runtime: Runtime) -> list[Route]:
    """The app's routes as patterns, static ones first so `/holds/samples` is not a hold id."""
    table = declared_permissions(create_app(runtime=runtime))
    compiled = []
    for (method, route), permission in table.items():
        pattern = re.escape(route)
        pattern = re.sub(r"\\\{\w+:uuid\\\}", "[0-9a-f-]{36}", pattern)
        pattern = re.sub(r"\\\{\w+:path\\\}", ".+", pattern)
        pattern = re.sub(r"\\\{\w+:\w+\\\}", "[^/]+", pattern)
        compiled.append((route.count("{"), method, re.compile(f"^{pattern}/?$"), permission))
    compiled.sort(key=lambda item: item[0])
    return [(method, pattern, permission) for _, method, pattern, permission in compiled]


def permission_of(table: list[Route], method: str, address: str) -> Permission | None:
    path = urlsplit(address).path
    for route_method, pattern, permission in table:
        if route_method == method and pattern.match(path):
            return permission
    raise AssertionError(f"{method} {address} leads to no route")


def world(runtime: Runtime) -> None:
    email = ingest_email(runtime).contact
    call = ingest_call(runtime, external_id="pbx-controls").contact
    with runtime.session() as session:
        holds = HoldService(session, runtime, SYSTEM, "pia.privacy")
        holds.place(HoldRequest("complaint", "C-1", "contacts", contact_ids=[call.id]))
        holds.place(HoldRequest("legal", "L-1", "customer", customer_id=email.customer_id))
        cases = CaseService(session, runtime, SYSTEM, "pia.privacy")
        for kind in RequestKind:
            cases.open(email.customer_id, kind)  # type: ignore[arg-type]
        session.commit()
    sweep(runtime, actor="expiry")


@pytest.mark.parametrize("username", sorted(USERS))
def test_no_page_offers_a_role_what_it_may_not_do(
    browser: TestClient[Any], runtime: Runtime, username: str
) -> None:
    world(runtime)
    table = routes(runtime)
    roles = USERS[username]
    held = set().union(*(ROLE_PERMISSIONS[Role(r)] for r in roles))
    assert log_in(browser, username).status_code == 303
    # The start page, and a search as an agent would type it (a 403 for roles without it).
    starts = ["/", "/customers?q=aino.virtanen@example.fi"]
    queue, seen, offered = deque(starts), set(starts), 0
    while queue and len(seen) <= MAX_PAGES:
        page = browser.get(queue.popleft())
        if page.status_code != 200 or "text/html" not in page.headers["content-type"]:
            continue
        parser = Targets()
        parser.feed(page.text)
        for method, address in sorted(parser.found):
            if address.startswith(SKIPPED) or address.startswith("/login"):
                continue
            permission = permission_of(table, method, address)
            offered += 1
            assert permission is None or permission in held, (
                f"{username} is offered {method} {address} ({permission}) on {page.url}"
            )
            path = urlsplit(address).path
            if method == "GET" and not path.startswith("/api/") and address not in seen:
                seen.add(address)
                queue.append(address)
    assert offered > 10  # the crawl reached the role's pages
