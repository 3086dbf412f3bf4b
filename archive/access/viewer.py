"""Whose eyes a service reads for: decides what is hidden (restricted customers) from whom."""

from __future__ import annotations

from dataclasses import dataclass

from archive.access.permissions import SEES_RESTRICTED
from archive.accounts.models import Role


@dataclass(frozen=True)
class Viewer:
    roles: frozenset[Role]

    @property
    def sees_restricted(self) -> bool:
        return bool(self.roles & SEES_RESTRICTED)


# The CLI and the workers act for the organisation itself, not for a person's role.
SYSTEM = Viewer(frozenset({Role.PRIVACY}))
