"""What people do with accounts: check, act, audit and commit, once per operation.

The API, the pages and the console call these with their own `Actor`, so the same rules hold
and the same trail is left whichever way a change comes in. Reads that record nothing are here
too, so the pages and the console read as the API does.
"""

from archive.accounts.use_cases.own import (
    OwnAccount,
    change_password,
    confirm_totp,
    own_account,
    pending_totp,
    start_totp,
)
from archive.accounts.use_cases.second_admin import (
    approvals,
    approve,
    decided_approvals,
    pending_approvals,
    withdraw,
)
from archive.accounts.use_cases.sessions import (
    LoggedIn,
    log_in,
    log_out,
    use_reset_code,
)
from archive.accounts.use_cases.tokens import (
    issue_own_token,
    issue_token,
    list_tokens,
    revoke_own_token,
    revoke_token,
)
from archive.accounts.use_cases.users import (
    Changed,
    NewUser,
    Reset,
    add_user,
    disable_user,
    enable_user,
    get_user,
    list_users,
    lone_admin,
    remove_totp,
    reset_password,
    set_roles,
    set_totp,
)

__all__ = [
    "Changed",
    "LoggedIn",
    "NewUser",
    "OwnAccount",
    "Reset",
    "add_user",
    "approvals",
    "approve",
    "change_password",
    "confirm_totp",
    "decided_approvals",
    "disable_user",
    "enable_user",
    "get_user",
    "issue_own_token",
    "issue_token",
    "list_tokens",
    "list_users",
    "log_in",
    "log_out",
    "lone_admin",
    "own_account",
    "pending_approvals",
    "pending_totp",
    "remove_totp",
    "reset_password",
    "revoke_own_token",
    "revoke_token",
    "set_roles",
    "set_totp",
    "start_totp",
    "use_reset_code",
    "withdraw",
]
