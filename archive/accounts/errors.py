"""Errors of logging in; the API maps them to 401, 429 and 401 problem details."""

from __future__ import annotations

from archive.errors import ArchiveError, Forbidden


class LoginFailed(ArchiveError):
    """Unknown user, wrong password, wrong code or disabled account, all told alike (HTTP 401).

    One answer for every cause, so a caller cannot learn which user names exist.
    """


class LocalLoginOff(Forbidden):
    """Passwords are switched off for people (ARCHIVE_LOCAL_LOGIN=false): they log in through
    single sign-on (HTTP 403)."""


class TooManyAttempts(ArchiveError):
    """Too many failed logins for this account or from this address (HTTP 429)."""

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class SecondFactorRequired(ArchiveError):
    """The password was right but a TOTP code is needed (HTTP 401).

    `enrolled` tells whether the account has a second factor to give a code from; when it is
    False the account's roles need one and an administrator must enrol it first.
    """

    def __init__(self, detail: str, *, enrolled: bool) -> None:
        super().__init__(detail)
        self.enrolled = enrolled
