"""Permissions as `scope:resource:action` strings, and the one table of what each role may do."""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType

from archive.accounts.models import Role


class Permission(StrEnum):
    CUSTOMERS_SEARCH = "customers:identity:search"
    CUSTOMERS_READ = "customers:identity:read"
    CUSTOMERS_RESTRICT = "customers:restriction:write"
    CUSTOMERS_MERGE = "customers:identity:merge"  # and split, merge's inverse
    IDENTITY_REVIEW = "customers:identity:review"  # contacts whose customer is uncertain
    CONTACTS_LIST = "contacts:metadata:read"
    CONTACTS_CONTENT_READ = "contacts:content:read"
    CONTACTS_CREATE = "contacts:content:create"
    TICKETS_READ = "tickets:record:read"
    TICKETS_WRITE = "tickets:record:write"
    USERS_MANAGE = "accounts:users:manage"
    TOKENS_MANAGE = "accounts:tokens:manage"  # service accounts' tokens; revoking any
    APPROVALS_READ = "accounts:approvals:read"  # changes waiting for a second administrator
    SELF = "accounts:self:manage"  # one's own session, password and second factor
    HOLDS_READ = "holds:record:read"
    HOLDS_PLACE = "holds:record:write"
    POLICY_READ = "retention:policy:read"
    POLICY_MANAGE = "retention:policy:write"
    DELETIONS_READ = "retention:deletions:read"
    PRIVACY_CASES = "privacy:cases:manage"
    CERTIFICATES_READ = "privacy:certificates:read"
    AUDIT_READ = "audit:records:read"
    AUDIT_SUBJECT_REPORT = "audit:subject:read"
    CONNECTORS_READ = "connectors:status:read"  # how the mail and recording pipes fare


_FINDING = {
    Permission.CUSTOMERS_SEARCH,
    Permission.CUSTOMERS_READ,
    Permission.CONTACTS_LIST,
    Permission.CONTACTS_CONTENT_READ,
    Permission.TICKETS_READ,
    Permission.TICKETS_WRITE,
}

# Holds, and reading the policy whose caps they are bound by. (Legal holds: privacy only, in
# the holds service, as the permission is the same and the reason decides.)
_HOLDING = {Permission.HOLDS_READ, Permission.HOLDS_PLACE, Permission.POLICY_READ}

# The whole access policy. Administrators run the system but see no contact or identifier
# (separation of duties); auditors read the trail only; ingest accounts write and never read.
ROLE_PERMISSIONS: MappingProxyType[Role, frozenset[Permission]] = MappingProxyType(
    {
        Role.AGENT: frozenset(_FINDING | {Permission.SELF}),
        Role.QUALITY: frozenset(_FINDING | _HOLDING | {Permission.SELF}),
        Role.PRIVACY: frozenset(
            _FINDING
            | _HOLDING
            | {
                Permission.CUSTOMERS_RESTRICT,
                Permission.CUSTOMERS_MERGE,
                Permission.IDENTITY_REVIEW,
                Permission.AUDIT_SUBJECT_REPORT,
                Permission.PRIVACY_CASES,
                Permission.CERTIFICATES_READ,
                Permission.SELF,
            }
        ),
        Role.ADMIN: frozenset(
            {
                Permission.USERS_MANAGE,
                Permission.TOKENS_MANAGE,
                Permission.APPROVALS_READ,
                Permission.POLICY_READ,
                Permission.POLICY_MANAGE,
                Permission.CONNECTORS_READ,
                Permission.SELF,
            }
        ),
        Role.AUDITOR: frozenset(
            {
                Permission.AUDIT_READ,
                Permission.APPROVALS_READ,
                Permission.DELETIONS_READ,
                Permission.CERTIFICATES_READ,
                Permission.SELF,
            }
        ),
        Role.INGEST: frozenset({Permission.CONTACTS_CREATE}),
    }
)

# Roles that see contacts of restricted customers (everyone else gets 404 for them).
SEES_RESTRICTED = frozenset({Role.PRIVACY})
# With ARCHIVE_REQUIRE_MFA on, sessions of these roles must have passed a second factor.
MFA_ROLES = frozenset({Role.PRIVACY, Role.ADMIN})


def granting_role(roles: frozenset[Role], permission: Permission) -> Role | None:
    """The role through which `roles` hold `permission` (recorded in the audit trail), if any."""
    for role in sorted(roles):
        if permission in ROLE_PERMISSIONS[role]:
            return role
    return None
