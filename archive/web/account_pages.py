"""The pages of one's own account: roles, and enrolling a second factor."""

from __future__ import annotations

from litestar import Controller


class AccountPages(Controller):
    path = "/account"
