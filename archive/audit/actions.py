"""What an audit record says happened: the action taken and whether it was allowed."""

from __future__ import annotations

from enum import StrEnum


class AuditAction(StrEnum):
    """Audited actions, named `scope:resource:action` or `resource:action`.

    The values are stored and hashed, so a value never changes once released; a new action gets
    a new member.
    """

    CONTACT_CONTENT_READ = "contact:content:read"
    CONTACT_METADATA_READ = "contact:metadata:read"
    CONTACT_CREATE = "contact:create"
    # A search of contacts' words: its record names how many terms and which filters, never
    # the words; the contacts it listed are named by a metadata read beside it.
    CONTACT_SEARCH = "contact:search"
    # A call's transcript stored or replaced; its record names the call, never a word of it.
    CONTACT_TRANSCRIPT_REPLACE = "contact:transcript:replace"

    CUSTOMER_SEARCH = "customer:search"
    CUSTOMER_READ = "customer:identity:read"
    # An identity code shown in full: pages mask it until someone asks, with a purpose.
    CUSTOMER_IDENTITY_CODE_READ = "customer:identity_code:read"
    CUSTOMER_RESTRICT = "customer:restrict"
    CUSTOMER_UNRESTRICT = "customer:unrestrict"
    # Which kind of identifier changed; the old and new values never enter the trail.
    CUSTOMER_RECTIFY = "customer:identity:rectify"
    CUSTOMER_MERGE = "customer:merge"
    # Contacts moved from one customer to another (merge's inverse), with their identifiers.
    CUSTOMER_SPLIT = "customer:split"
    IDENTITY_REVIEW_READ = "customer:identity:review:read"
    # A contact whose customer was uncertain, confirmed as that customer's.
    IDENTITY_CONFIRM = "customer:identity:confirm"

    TICKET_READ = "ticket:read"
    TICKET_CREATE = "ticket:create"
    TICKET_UPDATE = "ticket:update"

    USER_LOGIN = "user:login"
    USER_LOGIN_FAILED = "user:login:failed"
    USER_LOCKED_OUT = "user:login:locked"
    USER_LOGOUT = "user:logout"
    USER_CREATE = "user:create"
    USER_DISABLE = "user:disable"
    USER_ENABLE = "user:enable"
    # S105 mistakes these action names for secrets because they mention passwords and tokens.
    USER_PASSWORD_RESET = "user:password:reset"  # noqa: S105
    USER_PASSWORD_CHANGE = "user:password:change"  # noqa: S105
    USER_ROLES_CHANGE = "user:roles:change"
    USER_TOTP_ENROL = "user:totp:enrol"
    USER_TOTP_REMOVE = "user:totp:remove"

    # A one-time code issued for a user to choose a new password with, and its use.
    USER_PASSWORD_RESET_USE = "user:password:reset:use"  # noqa: S105
    # A change that waits for a second administrator: asked for, approved, withdrawn, listed.
    APPROVAL_REQUEST = "user:approval:request"
    APPROVAL_APPROVE = "user:approval:approve"
    APPROVAL_WITHDRAW = "user:approval:withdraw"
    APPROVALS_READ = "user:approvals:read"

    # Single sign-on: a login through the provider and its refusals, an account it made, the
    # roles its groups gave, the provider's own logout; the group-to-role mapping's changes.
    USER_LOGIN_SSO = "user:login:sso"
    USER_LOGIN_SSO_FAILED = "user:login:sso:failed"
    USER_SSO_PROVISION = "user:sso:provision"
    USER_SSO_ROLES = "user:sso:roles"
    USER_LOGOUT_BACKCHANNEL = "user:logout:backchannel"
    SSO_MAPPING_REQUEST = "sso:mapping:request"
    SSO_MAPPING_APPROVE = "sso:mapping:approve"
    SSO_MAPPING_REMOVE = "sso:mapping:remove"
    SSO_MAPPING_READ = "sso:mapping:read"

    TOKEN_CREATE = "token:create"  # noqa: S105
    TOKEN_REVOKE = "token:revoke"  # noqa: S105

    KEYS_ROTATE = "keys:rotate"

    POLICY_APPLY = "policy:apply"
    HOLD_PLACE = "hold:place"
    HOLD_RELEASE = "hold:release"
    HOLD_LAPSE = "hold:lapse"
    HOLD_READ = "hold:read"
    # One per sweep; its target is the deletion run, whose tombstones name every contact.
    RETENTION_SWEEP = "retention:sweep"
    DELETIONS_READ = "retention:deletions:read"
    # A run's tombstones past ARCHIVE_TOMBSTONE_DAYS folded into its record.
    TOMBSTONES_FOLD = "retention:tombstones:fold"

    CASE_OPEN = "case:open"
    CASE_READ = "case:read"
    CASE_IDENTITY_VERIFY = "case:identity:verify"
    CASE_EXTEND = "case:extend"
    CASE_CLOSE = "case:close"
    CASE_ERASE = "case:erase"
    CERTIFICATE_READ = "case:certificate:read"
    EXPORT_REQUEST = "case:export:request"
    EXPORT_LINK = "case:export:link"
    EXPORT_DOWNLOAD = "case:export:download"
    EXPORT_DESTROY = "case:export:destroy"

    AUDIT_READ = "audit:read"
    AUDIT_EXPORT = "audit:export"
    AUDIT_VERIFY = "audit:verify"
    # The privacy officer's report of who accessed one data subject's data.
    AUDIT_SUBJECT_REPORT = "audit:subject:read"
    # Records past ARCHIVE_AUDIT_RETENTION_DAYS removed, whole months at a time.
    AUDIT_PRUNE = "audit:prune"
    # A new lineage of heads kept outside, after an older backup was restored.
    AUDIT_RESTART = "audit:restart"
    # A backup taken: a copy of the database, and perhaps of the keys, left the archive.
    BACKUP_TAKE = "backup:take"
    # A backup restored into this archive, with the gap it left in the audit log.
    BACKUP_RESTORE = "backup:restore"

    ACCESS_DENIED = "access:denied"
    # A browser request without the page's CSRF token: another site tried to act for the user.
    REQUEST_FORGERY_REFUSED = "request:csrf:refused"


class Outcome(StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"
