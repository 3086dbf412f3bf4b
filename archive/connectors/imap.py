"""An IMAP account as the IMAP connector reads it: always over TLS (IMAPS, or STARTTLS before
the login), logged in with a password or an OAuth 2.0 access token (XOAUTH2), its messages
listed by UID and fetched unchanged.

Every failure to reach, log in to or read the server is raised as `MailboxUnavailable`, whose
message never holds the password or the token.
"""

from __future__ import annotations

import contextlib
import imaplib
import ssl
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from archive.settings import Settings

# The keywords an archived message, and one the archive will never take, are given
# (ARCHIVE_IMAP_AFTER=flag, and =move for the refused ones, which stay where they are).
ARCHIVED = "$Archived"
REFUSED = "$ArchiveRefused"
# Seconds a connection may wait for the server to answer before the pass gives up on it.
TIMEOUT = 60.0
# Bodies fetched in one round trip add up to this at most (a larger message comes alone), so a
# batch is never held in memory at once.
FETCH_BYTES = 16 << 20
# An access token is a few kilobytes at most; a file larger than this is not one.
TOKEN_BYTES = 64 << 10

_FAILURES = (OSError, ssl.SSLError, IMAPClientError, imaplib.IMAP4.error, ValueError)


class Gone(Enum):
    """A message deleted from the mailbox between its listing and its fetch."""

    GONE = "gone"


GONE = Gone.GONE


class MailboxUnavailable(Exception):
    """The server could not be reached, logged in to or read; the message says why."""


@dataclass(frozen=True)
class Account:
    host: str
    port: int
    tls: str
    user: str
    password: str = field(default="", repr=False)
    token_file: Path | None = None
    ca_file: Path | None = None

    @classmethod
    def of(cls, settings: Settings) -> Account | None:
        """The account ARCHIVE_IMAP_* name, or None when IMAP is off (no host)."""
        if not settings.imap_host:
            return None
        return cls(
            host=settings.imap_host,
            port=settings.imap_port,
            tls=settings.imap_tls,
            user=settings.imap_user,
            password=settings.imap_password,
            token_file=settings.imap_oauth2_token_file,
            ca_file=settings.imap_ca_file,
        )

    @property
    def name(self) -> str:
        return f"{self.user}@{self.host}"

    def source(self, mailbox: str) -> str:
        """How the connectors' report names one of its mailboxes (no secret in it)."""
        scheme = "imaps" if self.tls == "implicit" else "imap"
        return f"{scheme}://{self.user}@{self.host}:{self.port}/{mailbox}"


def read_token(path: Path) -> str:
    """The access token in `path`, read afresh: a refresher outside the archive replaces it."""
    try:
        if path.stat().st_size > TOKEN_BYTES:
            raise MailboxUnavailable(f"{path} is larger than any access token")
        token = path.read_text(encoding="ascii").strip()
    except OSError as error:
        raise MailboxUnavailable(f"cannot read {path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise MailboxUnavailable(f"{path} does not hold an access token") from None
    if not token or any(ch.isspace() for ch in token):
        raise MailboxUnavailable(f"{path} does not hold an access token")
    return token


def _reason(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return " ".join(text.split())[:300]


class Connection:
    """One logged-in connection to the account's server."""

    def __init__(self, account: Account, timeout: float = TIMEOUT) -> None:
        self.account = account
        self.keywords = False
        where = f"{account.host}:{account.port}"
        implicit = account.tls == "implicit"
        try:
            context = ssl.create_default_context(
                cafile=str(account.ca_file) if account.ca_file else None
            )
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            self.client = IMAPClient(
                account.host, account.port, ssl=implicit, ssl_context=context, timeout=timeout
            )
        except _FAILURES as error:
            raise MailboxUnavailable(f"cannot connect to {where}: {_reason(error)}") from None
        try:
            if not implicit:
                self.client.starttls(context)
            self._log_in()
        except MailboxUnavailable:
            self.close()
            raise
        except _FAILURES as error:
            self.close()
            raise MailboxUnavailable(f"cannot log in to {where}: {_reason(error)}") from None

    def _log_in(self) -> None:
        account = self.account
        if account.token_file is not None:
            token = read_token(account.token_file)
            self.client.oauth2_login(account.user, token)
        else:
            self.client.login(account.user, account.password)

    def close(self) -> None:
        try:
            self.client.logout()
        except _FAILURES:
            # Logging out is a courtesy; a connection already broken is closed as it is.
            with contextlib.suppress(*_FAILURES):
                self.client.shutdown()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- what the connector does -------------------------------------------------------

    def select(self, mailbox: str, *, readonly: bool) -> int:
        """Open `mailbox` (for reading alone, or for marking and moving too); its UIDVALIDITY.
        `keywords` then says whether it takes keywords of the archive's own."""
        info = self._call(self.client.select_folder, mailbox, readonly)
        self.keywords = b"\\*" in info.get(b"PERMANENTFLAGS", ())
        if b"UIDVALIDITY" not in info:
            # Without it no position can be trusted: the mailbox is not read.
            raise MailboxUnavailable(f"the server gave no UIDVALIDITY for {mailbox}")
        return int(info[b"UIDVALIDITY"])

    def alive(self) -> bool:
        """Whether the server still answers on this connection."""
        try:
            self._call(self.client.noop)
        except MailboxUnavailable:
            return False
        return True

    def uids_after(self, uid: int) -> list[int]:
        """Every message's UID above `uid`, in order. (`n:*` always names the last message,
        whatever its UID, hence the filter.)"""
        found = self._call(self.client.search, ["UID", f"{uid + 1}:*"])
        return sorted(int(u) for u in found if int(u) > uid)

    def sizes(self, uids: Sequence[int]) -> dict[int, int]:
        """The size of each message still there (one deleted meanwhile is left out)."""
        answer = self._call(self.client.fetch, list(uids), ["RFC822.SIZE"])
        asked = set(uids)
        # A server may slip in news of other messages (an unsolicited FETCH of their FLAGS when
        # another client marks them): only the sizes asked for are taken.
        return {
            int(uid): int(data[b"RFC822.SIZE"])
            for uid, data in answer.items()
            if int(uid) in asked and b"RFC822.SIZE" in data
        }

    def bodies(self, sizes: dict[int, int]) -> Iterator[tuple[int, bytes | Gone | None]]:
        """Each message's bytes, unchanged and left unread (`BODY.PEEK[]`), in UID order: GONE
        for one that went meanwhile, None for one the server answered without its body (as
        Exchange does for an item it cannot give as MIME). Fetched a few at a time, up to
        `FETCH_BYTES` together."""
        for group in _groups(sorted(sizes), sizes):
            answer = self._call(self.client.fetch, group, ["BODY.PEEK[]"])
            for uid in group:
                data = answer.get(uid)
                yield uid, GONE if data is None else data.get(b"BODY[]")
            del answer

    def mark(self, uids: Sequence[int], keyword: str) -> None:
        if uids:
            self._call(self.client.add_flags, list(uids), [keyword])

    def move(self, uids: Sequence[int], mailbox: str) -> None:
        """Move to `mailbox` (MOVE, else COPY, then delete and expunge those alone)."""
        if not uids:
            return
        if self.client.has_capability("MOVE"):
            self._call(self.client.move, list(uids), mailbox)
            return
        self._call(self.client.copy, list(uids), mailbox)
        self._call(self.client.delete_messages, list(uids))
        if self.client.has_capability("UIDPLUS"):
            self._call(self.client.uid_expunge, list(uids))
        # Without UIDPLUS, the messages stay marked deleted until someone expunges: a plain
        # EXPUNGE would take other messages deleted by people too.

    def ensure(self, mailbox: str) -> None:
        """Make `mailbox` unless it exists."""
        if not self._call(self.client.folder_exists, mailbox):
            self._call(self.client.create_folder, mailbox)

    def _call(self, method: Any, *args: Any) -> Any:
        try:
            return method(*args)
        except _FAILURES as error:
            raise MailboxUnavailable(_reason(error)) from None


def _groups(uids: Iterable[int], sizes: dict[int, int]) -> Iterator[list[int]]:
    group: list[int] = []
    total = 0
    for uid in uids:
        if group and total + sizes[uid] > FETCH_BYTES:
            yield group
            group, total = [], 0
        group.append(uid)
        total += sizes[uid]
    if group:
        yield group
