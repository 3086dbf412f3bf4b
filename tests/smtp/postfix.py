"""Debian's Postfix, run by a test with a configuration directory and a queue of its own, relaying
all it receives to the archive's SMTP endpoint."""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from archive.testing.servers import free_port, wait_for_port

# No chroot (the queue is a throw-away directory, not a prepared jail), and Postfix's own SMTP
# server on a free loopback port rather than port 25.
MASTER_CF = """\
{port}    inet  n       -       n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""

MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {root}/queue
data_directory = {root}/data
maillog_file = {root}/mail.log
maillog_file_prefixes = {root}
myhostname = mta.example-company.fi
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
# Everything goes to the archive: it is the only next hop this Postfix knows.
relayhost = [127.0.0.1]:{archive_port}
local_transport = error:no local delivery in this test
smtputf8_enable = yes
message_size_limit = 20971520
# A deferred message is tried again at once when the queue is flushed.
minimal_backoff_time = 1s
maximal_backoff_time = 2s
queue_run_delay = 1s
"""


@dataclass(frozen=True)
class Postfix:
    config: Path
    port: int  # where it takes mail
    log: Path

    def mail_log(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def statuses(self) -> list[str]:
        """`status=` of every delivery attempt in the mail log, in order."""
        return re.findall(r"status=(\w+)", self.mail_log())

    def flush(self) -> None:
        """Try every deferred message again now (`postqueue -f`)."""
        run(["postqueue", "-c", str(self.config), "-f"])

    def wait_for(self, status: str, count: int, timeout: float = 60) -> None:
        """Until `count` delivery attempts (one a recipient) are logged with `status`."""
        deadline = time.monotonic() + timeout
        while self.statuses().count(status) < count:
            if time.monotonic() > deadline:
                pytest.fail(
                    f"Postfix logged fewer than {count} status={status}:\n{self.mail_log()}"
                )
            time.sleep(0.2)


def run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
    if done.returncode != 0:
        # Postfix says why in its mail log, not on the terminal.
        pytest.fail(f"{' '.join(command)} failed: {done.stdout}{done.stderr} (see its mail log)")


@contextmanager
def postfix_relaying_to(archive_port: int) -> Iterator[Postfix]:
    """A Postfix of the test's own, relaying every message to 127.0.0.1:`archive_port`."""
    if shutil.which("postfix", path="/usr/sbin:/usr/bin") is None:
        pytest.fail("Postfix is required (Debian: apt-get install postfix)")
    # Postfix's processes run as its own user, which must reach the queue through every
    # directory above it: a directory of its own under the system's temporary directory.
    root = Path(tempfile.mkdtemp(prefix="postfix-"))
    try:
        root.chmod(0o755)
        config = root / "config"
        config.mkdir()
        port = free_port()
        (config / "main.cf").write_text(
            MAIN_CF.format(root=root, archive_port=archive_port), encoding="utf-8"
        )
        (config / "master.cf").write_text(MASTER_CF.format(port=port), encoding="utf-8")
        (root / "queue").mkdir()  # Postfix makes its subdirectories, owned by its user
        data = root / "data"
        data.mkdir()
        owner = pwd.getpwnam("postfix")
        os.chown(data, owner.pw_uid, owner.pw_gid)
        run(["postfix", "-c", str(config), "start"])
        try:
            wait_for_port(port, 30, "Postfix")
            yield Postfix(config, port, root / "mail.log")
        finally:
            subprocess.run(
                ["postfix", "-c", str(config), "stop"], capture_output=True, check=False, timeout=60
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)
