"""The administrators' pages: users and their roles, and API tokens."""

from __future__ import annotations

from litestar import Controller


class AdminPages(Controller):
    path = "/admin"
