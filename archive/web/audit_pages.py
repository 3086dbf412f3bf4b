"""The pages of the audit trail with filters, and the deletion records."""

from __future__ import annotations

from litestar import Controller


class AuditPages(Controller):
    path = "/audit"
