"""The English words of stored codes that are no words: audit actions and a few stored values.

A page shows such a code through `_()` like any other value; `archive.web.i18n` looks its
English up here first, and that English is the msgid the catalogs translate. The code itself
stays on the page where a reader may need it (the trail keeps the action as the hover title).
"""

from __future__ import annotations

from archive.audit.actions import AuditAction

# The catalogs' context for the actions: "Set up a second factor" is also a button's label.
AUDIT_ACTION = "audit action"

# What each action reads as in the trail, in the past tense of what someone did.
ACTIONS: dict[str, str] = {
    AuditAction.CONTACT_CONTENT_READ: "Read a contact's content",
    AuditAction.CONTACT_METADATA_READ: "Read a contact's details",
    AuditAction.CONTACT_CREATE: "Stored a contact",
    AuditAction.CONTACT_SEARCH: "Searched the contacts' words",
    AuditAction.CONTACT_TRANSCRIPT_REPLACE: "Stored a call's transcript",
    AuditAction.CUSTOMER_SEARCH: "Searched for a customer",
    AuditAction.CUSTOMER_READ: "Read a customer's identity",
    AuditAction.CUSTOMER_IDENTITY_CODE_READ: "Showed a customer's identity code in full",
    AuditAction.CUSTOMER_RESTRICT: "Restricted a customer's data",
    AuditAction.CUSTOMER_UNRESTRICT: "Lifted a restriction",
    AuditAction.CUSTOMER_RECTIFY: "Rectified an identifier",
    AuditAction.CUSTOMER_MERGE: "Merged two customers",
    AuditAction.CUSTOMER_SPLIT: "Moved contacts to another customer",
    AuditAction.IDENTITY_REVIEW_READ: "Read the identity reviews",
    AuditAction.IDENTITY_CONFIRM: "Confirmed a contact's customer",
    AuditAction.TICKET_READ: "Read a ticket",
    AuditAction.TICKET_CREATE: "Created a ticket",
    AuditAction.TICKET_UPDATE: "Updated a ticket",
    AuditAction.USER_LOGIN: "Logged in",
    AuditAction.USER_LOGIN_FAILED: "Failed to log in",
    AuditAction.USER_LOCKED_OUT: "Locked out after failed logins",
    AuditAction.USER_LOGOUT: "Logged out",
    AuditAction.USER_CREATE: "Added a user",
    AuditAction.USER_DISABLE: "Disabled a user",
    AuditAction.USER_ENABLE: "Enabled a user",
    AuditAction.USER_PASSWORD_RESET: "Reset a password",
    AuditAction.USER_PASSWORD_CHANGE: "Changed a password",
    AuditAction.USER_ROLES_CHANGE: "Changed a user's roles",
    AuditAction.USER_TOTP_ENROL: "Set up a second factor",
    AuditAction.USER_TOTP_REMOVE: "Removed a second factor",
    AuditAction.USER_PASSWORD_RESET_USE: "Chose a password with a reset code",
    AuditAction.APPROVAL_REQUEST: "Asked a second administrator to approve",
    AuditAction.APPROVAL_APPROVE: "Approved a request",
    AuditAction.APPROVAL_WITHDRAW: "Withdrew a request",
    AuditAction.APPROVALS_READ: "Read the requests awaiting approval",
    AuditAction.USER_LOGIN_SSO: "Logged in through the identity provider",
    AuditAction.USER_LOGIN_SSO_FAILED: "Failed to log in through the identity provider",
    AuditAction.USER_SSO_PROVISION: "An account was made at its first single sign-on",
    AuditAction.USER_SSO_ROLES: "Roles changed with the identity provider's groups",
    AuditAction.USER_LOGOUT_BACKCHANNEL: "The identity provider ended the sessions",
    AuditAction.SSO_MAPPING_REQUEST: "Asked for a group to grant a role",
    AuditAction.SSO_MAPPING_APPROVE: "Approved a group granting a role",
    AuditAction.SSO_MAPPING_REMOVE: "Removed a group's role",
    AuditAction.SSO_MAPPING_READ: "Read the group mapping",
    AuditAction.TOKEN_CREATE: "Created an access token",
    AuditAction.TOKEN_REVOKE: "Revoked an access token",
    AuditAction.KEYS_ROTATE: "Rotated the encryption keys",
    AuditAction.POLICY_APPLY: "Applied a retention policy",
    AuditAction.HOLD_PLACE: "Placed a hold",
    AuditAction.HOLD_RELEASE: "Released a hold",
    AuditAction.HOLD_LAPSE: "A hold lapsed",
    AuditAction.HOLD_READ: "Read a hold",
    AuditAction.RETENTION_SWEEP: "Deleted expired contacts",
    AuditAction.DELETIONS_READ: "Read the deletion records",
    AuditAction.TOMBSTONES_FOLD: "Folded old tombstones into their deletion record",
    AuditAction.CASE_OPEN: "Opened a privacy request",
    AuditAction.CASE_READ: "Read a privacy request",
    AuditAction.CASE_IDENTITY_VERIFY: "Verified a requester's identity",
    AuditAction.CASE_EXTEND: "Extended a request's deadline",
    AuditAction.CASE_CLOSE: "Closed a privacy request",
    AuditAction.CASE_ERASE: "Erased a customer's data",
    AuditAction.CERTIFICATE_READ: "Read a certificate",
    AuditAction.EXPORT_REQUEST: "Asked for a copy of the data",
    AuditAction.EXPORT_LINK: "Made a download link for a copy",
    AuditAction.EXPORT_DOWNLOAD: "Downloaded a copy of the data",
    AuditAction.EXPORT_DESTROY: "Destroyed a copy of the data",
    AuditAction.AUDIT_READ: "Read the audit trail",
    AuditAction.AUDIT_EXPORT: "Exported the audit trail",
    AuditAction.AUDIT_VERIFY: "Verified the audit trail",
    AuditAction.AUDIT_SUBJECT_REPORT: "Read who accessed a customer's data",
    AuditAction.AUDIT_PRUNE: "Removed audit records past their retention",
    AuditAction.AUDIT_RESTART: "Restarted the audit log's signed heads after a restore",
    AuditAction.BACKUP_TAKE: "Took a backup",
    AuditAction.BACKUP_RESTORE: "Restored a backup",
    AuditAction.ACCESS_DENIED: "Was refused access",
    AuditAction.REQUEST_FORGERY_REFUSED: "Refused a forged request",
}

# Stored values that are identifiers, with the English word a page shows for them.
CODES: dict[str, str] = {
    "quality_project": "quality project",
    "national_id": "identity code",
    "deletion_run": "deletion run",
    "identity_review": "identity review",
}
