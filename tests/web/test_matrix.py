"""Every role against every page: what the role table says, as pages say it; never a 5xx.

The API's own walk (tests/access) covers the `/api/` routes; this one covers the rest.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from browsing import USERS, csrf, log_in
from litestar.testing import TestClient

from archive.access.guards import declared_permissions
from archive.access.permissions import ROLE_PERMISSIONS, Permission
from archive.accounts.models import Role
from archive.app import create_app
from archive.runtime import Runtime
from archive.testing.builders import ingest_email

PARAM = re.compile(r"\{(\w+):(\w+)\}")


def page_routes(runtime: Runtime) -> list[tuple[str, str, Permission | None]]:
    table = declared_permissions(create_app(runtime=runtime))
    return sorted(
        (method, route, permission)
        for (method, route), permission in table.items()
        if not route.startswith(("/api/", "/schema", "/health")) and method != "HEAD"
    )


def test_every_role_gets_what_the_table_says_on_every_page(
    browser: TestClient[Any], runtime: Runtime
) -> None:
    contact = ingest_email(runtime).contact
    world = {
        "contact_id": str(contact.id),
        "customer_id": str(contact.customer_id),
        "file_path": "app.css",
        # Unknown ids: the privacy officer gets a 404 page, every other role the 403 first.
        "case_id": str(uuid.uuid4()),
        "bundle_id": str(uuid.uuid4()),
        "hold_id": str(uuid.uuid4()),
        "run_id": str(uuid.uuid4()),
        "review_id": str(uuid.uuid4()),
        "approval_id": str(uuid.uuid4()),
        "token_id": str(uuid.uuid4()),
        # Not one of the walk's own accounts: an administrator's POSTs would change it.
        "username": "no.such.user",
    }
    routes = page_routes(runtime)
    assert len(routes) >= 8
    for who in ["anonymous", *USERS]:
        browser.cookies.clear()
        if who != "anonymous":
            assert log_in(browser, who).status_code == 303
        roles = frozenset() if who == "anonymous" else frozenset(USERS[who])
        for method, route, permission in routes:
            if route == "/logout":
                continue  # would end the walk's own session; tests/web/test_login.py tries it
            if route in ("/login", "/password-reset") and method == "POST" and who != "anonymous":
                continue  # once is enough: empty logins from one address soon meet the limit
            path = PARAM.sub(lambda m: world[m.group(1)], route)
            data = {"_csrf_token": csrf(browser)} if method == "POST" else None
            answer = browser.request(method, path, data=data, follow_redirects=False)
            status = answer.status_code
            assert status < 500, f"{who} {method} {route}: {status}"
            if (method, route) == ("POST", "/login"):
                assert status == 401  # no credentials in the form: told so, on the login page
                assert "User name, password or code is wrong." in answer.text
            elif (method, route) == ("POST", "/password-reset"):
                assert status == 401  # no reset code in the form: told so, on its page
                assert "the code has expired" in answer.text
            elif permission is None:
                assert status not in (401, 403), f"{who} {method} {route} is public"
            elif who == "anonymous":
                assert status in (302, 303), f"anonymous {method} {route}: {status}"
                assert answer.headers["location"].startswith("/login?next=")
            elif any(permission in ROLE_PERMISSIONS[Role(r)] for r in roles):
                assert status not in (401, 403), f"{who} {method} {route}: {status}"
            else:
                assert status == 403, f"{who} {method} {route}: {status}"
                assert answer.headers["content-type"].startswith("text/html")
