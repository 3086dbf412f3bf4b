"""The pages of the retention policy: the policy in force, and a preview of a change's effect."""

from __future__ import annotations

from litestar import Controller


class PolicyPages(Controller):
    path = "/policy"
