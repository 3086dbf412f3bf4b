"""The SMTP endpoint's server: aiosmtpd with the archive's size limit, AUTH and STARTTLS."""

from __future__ import annotations

import logging
import os
import socket
import ssl
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from archive.connectors.activity import Tally
from archive.errors import ConfigurationError
from archive.runtime import Runtime
from archive.settings import Settings
from archive.smtp.access import TokenAuthenticator, networks
from archive.smtp.handler import JournalHandler


def tls_context(settings: Settings) -> ssl.SSLContext | None:
    """The STARTTLS context of ARCHIVE_SMTP_TLS_CERT and ARCHIVE_SMTP_TLS_KEY, if set."""
    if settings.smtp_tls_cert is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    # The key is a secret setting, held in memory: `ssl` reads keys from files only, so it is
    # handed over through an anonymous in-memory file, never written to disk.
    descriptor = os.memfd_create("smtp-tls-key", os.MFD_CLOEXEC)
    try:
        os.write(descriptor, settings.smtp_tls_key.encode("utf-8"))
        context.load_cert_chain(Path(settings.smtp_tls_cert), f"/proc/self/fd/{descriptor}")
    except (OSError, ssl.SSLError) as error:
        # The message names the file and the reason, never the key.
        reason = getattr(error, "reason", None) or error.strerror or type(error).__name__
        raise ConfigurationError(
            f"ARCHIVE_SMTP_TLS_CERT and ARCHIVE_SMTP_TLS_KEY: cannot load the certificate "
            f"{settings.smtp_tls_cert} with its key: {reason}"
        ) from None
    finally:
        os.close(descriptor)
    return context


def smtp_parameters(runtime: Runtime) -> dict[str, Any]:
    """aiosmtpd's SMTP settings: SIZE is the ingest's limit, 8BITMIME and SMTPUTF8 are offered,
    and with a certificate AUTH waits for STARTTLS (without one it could not be used at all)."""
    settings = runtime.settings
    context = tls_context(settings)
    return {
        "data_size_limit": settings.max_message_bytes,
        "enable_SMTPUTF8": True,
        "decode_data": False,
        "tls_context": context,
        "authenticator": TokenAuthenticator(runtime),
        "auth_required": False,  # the handler asks for it unless the client is listed
        "auth_require_tls": context is not None,
    }


# aiosmtpd's own log names senders and recipients at INFO and quotes every line of a message at
# DEBUG: personal data, which no log may hold, whatever ARCHIVE_LOG_LEVEL says.
AIOSMTPD_LOG = "mail.log"
# Seconds between writes of the connectors' counts.
COUNT_EVERY = 5.0


class JournalServer(Controller):
    """aiosmtpd's controller, which also writes the connectors' counts as it runs and when it
    stops."""

    def __init__(self, handler: JournalHandler, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.tally = handler.tally

    def start(self) -> None:
        super().start()
        self.tally.start()

    def stop(self, no_assert: bool = False) -> None:
        super().stop(no_assert)
        self.tally.stop()


def journal_server(
    runtime: Runtime,
    *,
    host: str | None = None,
    port: int | None = None,
    count_every: float = COUNT_EVERY,
) -> JournalServer:
    """The endpoint, not yet started (`start()` serves it in a thread of its own, `stop()` ends
    it); `host` and `port` default to ARCHIVE_SMTP_HOST and ARCHIVE_SMTP_PORT; the connectors'
    counts are written every `count_every` seconds."""
    settings = runtime.settings
    logging.getLogger(AIOSMTPD_LOG).setLevel(logging.WARNING)
    hostname = host or settings.smtp_host
    port = settings.smtp_port if port is None else port
    # The connectors' page names the endpoint by the address it listens on.
    tally = Tally(runtime, every=count_every)
    handler = JournalHandler(
        runtime, networks(settings.smtp_allow), source=f"{hostname}:{port}", tally=tally
    )
    return JournalServer(
        handler,
        hostname=hostname,
        port=port,
        # The name in the greeting, looked up once: aiosmtpd would ask the resolver again for
        # every connection.
        server_hostname=socket.getfqdn(),
        **smtp_parameters(runtime),
    )
