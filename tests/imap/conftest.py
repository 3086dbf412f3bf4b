"""One Dovecot for each test module, a mailbox of each test's own in it, and the archive's
runtime set to read that mailbox."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest

from archive.runtime import Runtime
from archive.testing.dovecot import LOOPBACK, Dovecot, dovecot

Reading = Callable[..., Runtime]


@pytest.fixture(scope="module")
def server() -> Iterator[Dovecot]:
    try:
        with dovecot() as running:
            yield running
    except RuntimeError as error:
        pytest.fail(str(error))


@pytest.fixture
def mailbox() -> str:
    return f"Journal-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def reading(runtime: Runtime, server: Dovecot, mailbox: str) -> Reading:
    """Set the runtime to read the test's mailbox over IMAPS with the password, with these
    settings changed; the runtime."""

    def configure(**changes: Any) -> Runtime:
        runtime.settings = replace(
            runtime.settings,
            **{
                "imap_host": LOOPBACK,
                "imap_port": server.port,
                "imap_ca_file": server.ca_file,
                "imap_user": server.user,
                "imap_password": server.password,
                "imap_mailboxes": (mailbox,),
                **changes,
            },
        )
        return runtime

    return configure
