"""Accounts: add, disable and change users; log in; issue, check and revoke bearer tokens."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from archive.accounts import limits, passwords, purpose_key, resets, tokens
from archive.accounts import totp as totp_module
from archive.accounts.errors import LoginFailed, TooManyAttempts
from archive.accounts.models import (
    USERNAME,
    AccessToken,
    AccountKind,
    Role,
    TokenKind,
    User,
    UserRole,
    clean_display_name,
    clean_roles,
    clean_username,
)
from archive.accounts.tokens import Principal, principal
from archive.errors import Conflict, InvalidInput, NotFound
from archive.runtime import Runtime

__all__ = ["AccountService", "Principal"]

# The field a self-service password change names the password it proves with.
CURRENT = "current_password"


class AccountService:
    def __init__(self, session: Session, runtime: Runtime) -> None:
        self.session = session
        self.runtime = runtime
        self._totp_key = purpose_key(runtime.keys, "totp-secrets")
        self._attempt_key = purpose_key(runtime.keys, "login-attempts")

    # --- users ----------------------------------------------------------------------------

    def add_user(
        self,
        username: str,
        *,
        roles: Iterable[Role],
        password: str | None,
        display_name: str | None = None,
        totp: bool = False,
        created_by: str | None = None,
        kind: AccountKind = AccountKind.PERSON,
    ) -> tuple[User, str | None]:
        """A new user; with `totp`, their second factor is active at once and its URI returned.

        A service account has no password and can only use API tokens. The roles may be none
        when the ones asked for wait for a second administrator (`accounts.use_cases`).
        """
        name = clean_username(username)
        now = self.runtime.clock.now()
        wanted = clean_roles(roles) if roles else frozenset()
        if kind is AccountKind.SERVICE and (password is not None or totp):
            raise InvalidInput(
                "password: a service account has none; it uses API tokens only", field="password"
            )
        user = User(
            id=uuid.uuid4(),
            username=name,
            kind=kind,
            display_name=clean_display_name(display_name),
            failed_logins=0,
            created_at=now,
            created_by=created_by,
            reset_told=True,
            role_rows=[UserRole(role=role.value) for role in sorted(wanted)],
        )
        if password is not None:
            user.password_hash = passwords.hash_password(passwords.check_password(password, name))
            user.password_changed_at = now
        uri = None
        if totp:
            secret = totp_module.new_secret()
            user.totp_secret_ciphertext = totp_module.seal_secret(self._totp_key, user.id, secret)
            uri = totp_module.provisioning_uri(secret, name)
        if self._find(name) is not None:
            raise Conflict(f"user {name} already exists")
        try:
            with self.session.begin_nested():
                self.session.add(user)
        except IntegrityError:
            raise Conflict(f"user {name} already exists") from None
        return user, uri

    def list_users(self) -> list[User]:
        return list(self.session.scalars(select(User).order_by(User.username)))

    def enabled_holders(self, role: Role) -> int:
        """How many enabled users hold `role`."""
        found = self.session.scalar(
            select(func.count())
            .select_from(User)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == role.value, User.disabled_at.is_(None))
        )
        return found or 0

    def get(self, username: str) -> User:
        user = self._find(username)
        if user is None:
            raise NotFound(f"no user {username}")
        return user

    def disable(self, username: str) -> User:
        """Disable the user and revoke every token they hold, so none works from now on."""
        user = self.get(username)
        now = self.runtime.clock.now()
        if user.disabled_at is None:
            user.disabled_at = now
        tokens.revoke_all(self.session, user.id, now, kinds=(TokenKind.SESSION, TokenKind.API))
        return user

    def enable(self, username: str) -> User:
        """Let the user log in again; tokens revoked while disabled stay revoked."""
        user = self.get(username)
        user.disabled_at = None
        self.session.flush()
        return user

    def set_password(self, username: str, new_password: str) -> User:
        """Set a password directly and end the user's sessions: for the operator's own setup
        (the demo's accounts). An administrator resets with a one-time code instead."""
        user = self.get(username)
        now = self.runtime.clock.now()
        user.password_hash = passwords.hash_password(
            passwords.check_password(new_password, user.username)
        )
        user.password_changed_at = now
        tokens.revoke_all(self.session, user.id, now, kinds=(TokenKind.SESSION,))
        return user

    def issue_reset_code(self, username: str, *, by: str) -> tuple[User, str, datetime]:
        """A one-time code for `username` to choose a new password with (`resets`)."""
        user = self.get(username)
        if user.is_service:
            raise Conflict(f"{user.username} is a service account: it has no password")
        code, expires_at = resets.issue(self.session, user, by=by, now=self.runtime.clock.now())
        self.session.flush()
        return user, code, expires_at

    def use_reset_code(
        self, username: str, code: str, new_password: str, *, source_address: str
    ) -> User:
        """The user chooses a new password with the code an administrator gave them.

        A wrong code counts as a failed login, since it is as good a guess; the refusal says
        no more than a failed login does, and is committed although the caller gets an error.
        """
        now = self.runtime.clock.now()
        name = username.strip().lower() if isinstance(username, str) else ""
        key = limits.username_key(self._attempt_key, name)
        address = limits.address_key(source_address)
        self._refuse_if_limited(key, address, now)
        user = self._find(name) if USERNAME.fullmatch(name) else None
        if user is None or user.disabled or not resets.matches(user, code, now):
            raise self._failed(key, address, now, user)
        resets.choose_password(user, new_password, now)
        limits.record_attempt(self.session, key=key, address=address, at=now, succeeded=True)
        self.session.flush()
        return user

    def told_of_reset(self, user: User) -> tuple[str, datetime] | None:
        """Who reset the user's password and when, the first time they log in after it."""
        if user.reset_told or user.reset_at is None or user.reset_by is None:
            return None
        user.reset_told = True
        self.session.flush()
        return user.reset_by, user.reset_at

    def change_password(
        self,
        username: str,
        current: str,
        new: str,
        *,
        source_address: str = "",
        keep_session: uuid.UUID | None = None,
    ) -> User:
        """The user sets their own password, proving the current one; other sessions end.

        A wrong current password counts as a failed login for the rate limits, as it is as good
        a guess as one typed into the login form, and is committed although the caller gets an
        error. The session `keep_session` (the one asking) stays open; API tokens stay valid,
        as when an administrator resets the password.
        """
        user = self.get(username)
        now = self.runtime.clock.now()
        given = current if isinstance(current, str) else ""
        if not given:
            raise InvalidInput("current_password: the current password is needed", field=CURRENT)
        key = limits.username_key(self._attempt_key, user.username)
        address = limits.address_key(source_address)
        self._refuse_if_limited(key, address, now)
        if user.password_hash is None or not passwords.verify_password(user.password_hash, given):
            limits.record_failure(self.session, key=key, address=address, at=now, user_id=user.id)
            self.session.commit()
            raise InvalidInput("current_password: the current password is wrong", field=CURRENT)
        checked = passwords.check_password(new, user.username)
        if passwords.verify_password(user.password_hash, checked):
            raise InvalidInput(
                "password: choose a password other than the current one", field="password"
            )
        user.password_hash = passwords.hash_password(checked)
        user.password_changed_at = now
        user.failed_logins = 0
        user.locked_until = None
        limits.record_attempt(self.session, key=key, address=address, at=now, succeeded=True)
        tokens.revoke_all(self.session, user.id, now, kinds=(TokenKind.SESSION,), keep=keep_session)
        return user

    def set_roles(self, username: str, roles: Iterable[Role]) -> User:
        """Replace the user's roles; tokens already issued carry the new roles at once. May be
        none, while the roles asked for wait for a second administrator."""
        user = self.get(username)
        wanted = frozenset(roles)
        user.role_rows = [row for row in user.role_rows if Role(row.role) in wanted]
        for role in sorted(wanted - user.roles):
            user.role_rows.append(UserRole(role=role.value))
        self.session.flush()
        return user

    # --- second factor --------------------------------------------------------------------

    def enrol_totp(self, username: str) -> str:
        """A new TOTP secret's URI; it replaces any factor in use once `confirm_totp` succeeds."""
        user = self.get(username)
        secret = totp_module.new_secret()
        user.totp_pending_ciphertext = totp_module.seal_secret(self._totp_key, user.id, secret)
        self.session.flush()
        return totp_module.provisioning_uri(secret, user.username)

    def pending_totp(self, username: str) -> str | None:
        """The URI of the secret waiting for `confirm_totp`, so its form can be shown again."""
        user = self.get(username)
        if user.totp_pending_ciphertext is None:
            return None
        secret = totp_module.open_secret(self._totp_key, user.id, user.totp_pending_ciphertext)
        return totp_module.provisioning_uri(secret, user.username)

    def set_totp(self, username: str) -> str:
        """An administrator gives the user a new second factor, active at once; returns its URI.

        For users who cannot enrol themselves: with ARCHIVE_REQUIRE_MFA on, a privacy officer or
        administrator without a factor cannot log in. Their sessions end, as the URI changes hands.
        """
        user = self.get(username)
        secret = totp_module.new_secret()
        user.totp_secret_ciphertext = totp_module.seal_secret(self._totp_key, user.id, secret)
        user.totp_pending_ciphertext = None
        user.totp_last_step = None
        tokens.revoke_all(
            self.session, user.id, self.runtime.clock.now(), kinds=(TokenKind.SESSION,)
        )
        self.session.flush()
        return totp_module.provisioning_uri(secret, user.username)

    def remove_totp(self, username: str) -> User:
        """Take the user's second factor away (a lost phone); their sessions end."""
        user = self.get(username)
        user.totp_secret_ciphertext = None
        user.totp_pending_ciphertext = None
        user.totp_last_step = None
        tokens.revoke_all(
            self.session, user.id, self.runtime.clock.now(), kinds=(TokenKind.SESSION,)
        )
        self.session.flush()
        return user

    def confirm_totp(self, username: str, code: str) -> None:
        """Activate the enrolled secret, proven by a current code from it."""
        user = self.get(username)
        if user.totp_pending_ciphertext is None:
            raise Conflict(f"user {user.username} has no second factor waiting for confirmation")
        secret = totp_module.open_secret(self._totp_key, user.id, user.totp_pending_ciphertext)
        step = totp_module.matching_step(secret, code, at=self.runtime.clock.now(), after=None)
        if step is None:
            raise InvalidInput("code: does not match the enrolled secret", field="code")
        user.totp_secret_ciphertext = user.totp_pending_ciphertext
        user.totp_pending_ciphertext = None
        user.totp_last_step = step
        self.session.flush()

    # --- login ----------------------------------------------------------------------------

    def login(
        self,
        username: str,
        password: str,
        *,
        totp_code: str | None,
        source_address: str,
        require_mfa_for: frozenset[Role],
    ) -> tuple[Principal, str]:
        """Check a password (and a TOTP code) and open a session; returns it and its secret.

        Raises TooManyAttempts before checking anything when the account or the address is
        limited, LoginFailed for any wrong credential, SecondFactorRequired when the password
        was right but a code is missing. Login commits the session, on success and on failure
        alike: a failed attempt must count although the caller gets an error, and the returned
        secret must already work. Call it on a session with nothing else pending.
        """
        now = self.runtime.clock.now()
        name = username.strip().lower() if isinstance(username, str) else ""
        key = limits.username_key(self._attempt_key, name)
        address = limits.address_key(source_address)
        self._refuse_if_limited(key, address, now)
        user = self._find(name) if USERNAME.fullmatch(name) else None
        given = password if isinstance(password, str) else ""
        if user is None or user.password_hash is None or user.disabled or user.is_service:
            # A service account never logs in; a reset user has no password until they choose.
            passwords.spend_verification_time(given)
            raise self._failed(key, address, now, user)
        if not passwords.verify_password(user.password_hash, given):
            raise self._failed(key, address, now, user)
        mfa = totp_module.second_factor(
            self.session, user, totp_code, key=self._totp_key, required_for=require_mfa_for, at=now
        )
        if mfa is None:
            raise self._failed(key, address, now, user)
        if passwords.needs_rehash(user.password_hash):
            user.password_hash = passwords.hash_password(given)
        user.failed_logins = 0
        user.locked_until = None
        limits.record_attempt(self.session, key=key, address=address, at=now, succeeded=True)
        token, secret = tokens.issue(
            self.session,
            user,
            kind=TokenKind.SESSION,
            name=None,
            expires_at=now + tokens.SESSION_LIFETIME,
            mfa=mfa,
            now=now,
        )
        self.session.commit()
        return principal(user, token), secret

    def _refuse_if_limited(self, key: bytes, address: str, now: datetime) -> None:
        """TooManyAttempts while the address or the account is limited, before any check."""
        for retry_after in (
            limits.address_retry_after(self.session, address, now),
            limits.account_retry_after(self.session, key, now),
        ):
            if retry_after is not None:
                raise TooManyAttempts(
                    "too many failed logins; try again later", retry_after=retry_after
                )

    def _failed(self, key: bytes, address: str, now: datetime, user: User | None) -> LoginFailed:
        user_id = user.id if user is not None else None
        limits.record_failure(self.session, key=key, address=address, at=now, user_id=user_id)
        self.session.commit()
        return LoginFailed("user name, password or code is wrong")

    # --- tokens ---------------------------------------------------------------------------

    def issue_api_token(
        self, username: str, *, name: str, expires_at: datetime
    ) -> tuple[AccessToken, str]:
        """A long-lived token for an integration; its secret is returned here and never again."""
        user = self.get(username)
        now = self.runtime.clock.now()
        if user.disabled:
            raise Conflict(f"user {user.username} is disabled")
        if user.reset_code_hash is not None:
            raise Conflict(f"user {user.username} must first choose a password with their code")
        if user.is_sso:
            # Its access must end when the provider says so: sessions end with the provider's
            # logout and at their set lifetime, and a long-lived token would outlast both.
            raise Conflict(
                f"user {user.username} logs in through the identity provider, which has the "
                "last word on their access: such an account works through sessions only, "
                "with no API tokens"
            )
        label = tokens.clean_name(name)
        tokens.check_expiry(expires_at, now)
        return tokens.issue(
            self.session,
            user,
            kind=TokenKind.API,
            name=label,
            expires_at=expires_at,
            mfa=False,
            now=now,
        )

    def list_tokens(self, username: str) -> list[AccessToken]:
        """The user's tokens that still work: neither revoked nor expired."""
        return tokens.usable(self.session, self.get(username).id, self.runtime.clock.now())

    def revoke_token(self, token_id: uuid.UUID) -> None:
        token = self.session.get(AccessToken, token_id)
        if token is None:
            raise NotFound(f"no token {token_id}")
        if token.revoked_at is None:
            token.revoked_at = self.runtime.clock.now()
        self.session.flush()

    def logout(self, token_id: uuid.UUID) -> None:
        """End a session (revoke the token the caller presented)."""
        self.revoke_token(token_id)

    def authenticate(self, secret: str, *, in_session: bool = False) -> Principal | None:
        """The principal behind a bearer secret; None when unknown, expired, revoked or disabled.

        Roles and the disabled flag are read afresh on every call, so changes apply at once.
        The lookup and the `last_used_at` write (at most once a minute per token) run in a
        transaction of their own, so a request that only reads needs no commit: by default in
        a session of their own; with `in_session`, in this service's, which must have begun
        nothing (the write is committed there), and which the request can then go on in.
        Call it before the request's session reads anything: on SQLite a transaction that has
        read cannot write after another has committed.
        """
        if in_session:
            if self.session.in_transaction():
                raise RuntimeError("authenticate in_session needs a session that began nothing")
            return self._authenticate(self.session, secret)
        with self.runtime.session() as own:
            return self._authenticate(own, secret)

    def _authenticate(self, session: Session, secret: str) -> Principal | None:
        now = self.runtime.clock.now()
        found = tokens.find_valid(session, secret, now)
        if found is None:
            return None
        who, last_used_at = found
        if tokens.touch(session, who.token_id, last_used_at, now):
            session.commit()
        return who

    def _find(self, username: object) -> User | None:
        if not isinstance(username, str):
            return None
        return self.session.scalars(
            select(User).where(User.username == username.strip().lower())
        ).one_or_none()
