"""A browser's view of the pages: a TestClient on the archive's HTTPS origin, keeping cookies."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from browsing import PASSWORD, USERS, log_in
from litestar.testing import TestClient

from archive.accounts.service import AccountService
from archive.runtime import Runtime
from archive.testing.apps import app_for


@pytest.fixture
def runtime(runtime: Runtime) -> Runtime:
    with runtime.session() as session:
        service = AccountService(session, runtime)
        for username, roles in USERS.items():
            service.add_user(username, roles=roles, password=PASSWORD)
        session.commit()
    return runtime


@pytest.fixture
def browser(runtime: Runtime) -> Iterator[TestClient[Any]]:
    with (
        app_for(runtime) as app,
        TestClient(app=app, base_url="https://archive.example") as client,
    ):
        yield client


@pytest.fixture
def agent(browser: TestClient[Any]) -> TestClient[Any]:
    assert log_in(browser, "anna.agent").status_code == 303
    return browser
