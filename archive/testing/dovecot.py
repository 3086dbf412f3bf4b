"""Debian's Dovecot, run by a test with a configuration, a certificate and a Maildir store of its
own on free loopback ports (the system's Dovecot is never used): IMAPS on one port, IMAP with
STARTTLS on another, one account that logs in with a password, or with an OAuth 2.0 token
(XOAUTH2) that Dovecot checks itself against a key of the test's.

A test puts messages in through IMAP (`append`) or, for many, straight into the Maildir
(`drop`), and reads back what the archive left there (flags, what was moved).
"""

from __future__ import annotations

import base64
import grp
import os
import pwd
import shutil
import ssl
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from imapclient import IMAPClient
from joserfc import jwt
from joserfc.jwk import OctKey

from archive.testing.certificates import loopback_certificate
from archive.testing.servers import free_port, stop, wait_for_port

DOVECOT = "/usr/sbin/dovecot"
LOOPBACK = "127.0.0.1"
USER = "journal@example-company.fi"
PASSWORD = "dovecot-test-password"  # noqa: S105 (a throw-away server's, not a secret)
# The key Dovecot checks access tokens with (HS256), and the names it finds it under.
TOKEN_KEY = b"archive-imap-test-token-key-0123456789"
TOKEN_KID = "test"  # noqa: S105 (a key's name)

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
instance_name = archive-test-{port}
log_path = {root}/dovecot.log
protocols = imap
listen = {loopback}
ssl = yes
ssl_cert = <{root}/tls/cert.pem
ssl_key = <{root}/tls/key.pem
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain login xoauth2 oauthbearer
# The tests fail logins on purpose; the next login must not be slowed for it.
auth_failure_delay = 0
default_internal_user = {internal}
default_internal_group = {internal_group}
default_login_user = {login}
first_valid_uid = {uid}
mail_location = maildir:{root}/mail/%n
mail_fsync = never
namespace inbox {{
  inbox = yes
  separator = /
}}
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {root}/oauth2.conf
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%n allow_all_users=yes
}}
service imap-login {{
  inet_listener imap {{
    address = {loopback}
    port = {starttls_port}
  }}
  inet_listener imaps {{
    address = {loopback}
    port = {port}
    ssl = yes
  }}
}}
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
protocol imap {{
  mail_max_userip_connections = 100
}}
"""

# Access tokens are JWTs checked by Dovecot itself, with a key it reads from a directory:
# `<prefix><issuer's azp or "default">/<algorithm>/<key id>`, an HMAC key in base64.
OAUTH2 = """\
introspection_mode = local
local_validation_key_dict = fs:posix:prefix={root}/keys/
username_attribute = sub
"""


@dataclass(frozen=True)
class Dovecot:
    root: Path
    port: int
    """IMAPS."""
    starttls_port: int
    """IMAP, TLS started with STARTTLS."""
    ca_file: Path
    """The certificate Dovecot serves: trust it to reach Dovecot."""
    user: str
    password: str
    mail_uid: int
    mail_gid: int

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def client(self) -> IMAPClient:
        """A logged-in IMAPS connection of the test's own, to put messages in and look."""
        context = ssl.create_default_context(cafile=str(self.ca_file))
        client = IMAPClient(LOOPBACK, self.port, ssl=True, ssl_context=context, timeout=30)
        client.login(self.user, self.password)
        return client

    def append(self, mailbox: str, messages: Iterable[bytes]) -> None:
        """Deliver `messages` to `mailbox` (made if missing), in order."""
        with self.client() as imap:
            if not imap.folder_exists(mailbox):
                imap.create_folder(mailbox)
            for message in messages:
                imap.append(mailbox, message)

    def drop(self, mailbox: str, messages: Iterable[bytes]) -> int:
        """Write messages straight into `mailbox`'s Maildir (made if missing), as a delivery
        agent would; how many. Dovecot gives them UIDs when a client next looks."""
        with self.client() as imap:
            if not imap.folder_exists(mailbox):
                imap.create_folder(mailbox)
        new = self.root / "mail" / self.user.split("@")[0] / f".{mailbox}" / "new"
        count = 0
        stamp = int(time.time())
        for count, message in enumerate(messages, 1):
            path = new / f"{stamp}.M{count}P{os.getpid()}.archive-test"
            path.write_bytes(message)
            os.chown(path, self.mail_uid, self.mail_gid)
        return count

    def token(self, subject: str | None = None, *, lifetime: int = 300) -> str:
        """An access token Dovecot accepts for the account (or for `subject`)."""
        now = int(time.time())
        claims = {
            "sub": subject or self.user,
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "jti": uuid.uuid4().hex,
        }
        header = {"alg": "HS256", "typ": "JWT", "kid": TOKEN_KID}
        return jwt.encode(header, claims, OctKey.import_key(TOKEN_KEY))


def _certificate(directory: Path) -> Path:
    """A certificate for 127.0.0.1 and its key, in `directory`; the certificate's path."""
    path = directory / "cert.pem"
    (directory / "key.pem").write_text(loopback_certificate(path, "archive imap test"))
    return path


def _users() -> tuple[str, str, str, int, int]:
    """(internal user and its group, login user, mail uid and gid). As root: Debian's own
    users; otherwise everything runs as the user running the tests."""
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid())
        return me.pw_name, _group(me.pw_gid), me.pw_name, me.pw_uid, me.pw_gid
    internal = pwd.getpwnam("dovecot")
    mail = pwd.getpwnam("mail")
    return "dovecot", _group(internal.pw_gid), "dovenull", mail.pw_uid, mail.pw_gid


def _group(gid: int) -> str:
    return grp.getgrgid(gid).gr_name


@contextmanager
def dovecot() -> Iterator[Dovecot]:
    """A Dovecot of the caller's own, for as long as the block lasts."""
    if not os.path.exists(DOVECOT):
        raise RuntimeError("Dovecot is required (Debian: apt-get install dovecot-imapd)")
    # Dovecot's processes run as its own users, which must reach the store through every
    # directory above it: a directory of its own under the system's temporary directory.
    root = Path(tempfile.mkdtemp(prefix="dovecot-"))
    try:
        root.chmod(0o755)
        internal, internal_group, login, uid, gid = _users()
        for name in ("run", "state", "tls", "mail", "home", "keys"):
            (root / name).mkdir()
        ca_file = _certificate(root / "tls")
        (root / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n", encoding="utf-8")
        port, starttls_port = free_port(), free_port()
        (root / "dovecot.conf").write_text(
            CONFIG.format(
                root=root,
                port=port,
                starttls_port=starttls_port,
                loopback=LOOPBACK,
                internal=internal,
                internal_group=internal_group,
                login=login,
                uid=uid,
                gid=gid,
            ),
            encoding="utf-8",
        )
        (root / "oauth2.conf").write_text(OAUTH2.format(root=root), encoding="utf-8")
        key_dir = root / "keys" / "default" / "HS256"
        key_dir.mkdir(parents=True)
        (key_dir / TOKEN_KID).write_text(base64.b64encode(TOKEN_KEY).decode(), encoding="ascii")
        for name in ("mail", "home"):
            os.chown(root / name, uid, gid)
        log = (root / "dovecot.out").open("wb")
        process = subprocess.Popen(  # noqa: S603 (Debian's dovecot, arguments made here)
            [DOVECOT, "-F", "-c", str(root / "dovecot.conf")], stdout=log, stderr=log
        )
        server = Dovecot(root, port, starttls_port, ca_file, USER, PASSWORD, uid, gid)
        try:
            try:
                wait_for_port(port, 30, "Dovecot")
                wait_for_port(starttls_port, 30, "Dovecot")
            except RuntimeError as error:
                said = (root / "dovecot.out").read_text(errors="replace") + server.log()
                raise RuntimeError(f"{error}:\n{said}") from None
            yield server
        finally:
            stop(process)
            log.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
