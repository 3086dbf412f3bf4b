"""E-mails a second through the SMTP endpoint, over one connection and over ten, against the
API's e-mail ingest of the same messages.

Run from the repository root:

    python -m benchmarks.smtp_throughput --count 200 --rounds 3

`archive serve` and `archive smtp` run as child processes on one archive (SQLite and a local
store, the embedded default). Each round sends `--count` new messages (about 4 KiB, text and a
small attachment, every one different) four ways: SMTP over one connection, SMTP over ten,
`POST /api/v1/contacts/emails` over one keep-alive connection and over ten. The order of the
four turns from round to round. Each message is answered only once its contact is committed,
so a figure is stored contacts a second.
"""

from __future__ import annotations

import itertools
import smtplib
import subprocess
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import click
import httpx
from rich.console import Console
from rich.table import Table

from archive.testing.databases import new_database
from archive.testing.servers import free_port, stop, wait_for_port
from benchmarks._common import median, write_results
from benchmarks._server import START_TIMEOUT, ArchiveServer, archive_command

CONNECTIONS = 10
LOOPBACK = "127.0.0.1"

Send = Callable[[list[bytes]], None]


def messages(count: int, serial: itertools.count[int]) -> list[bytes]:
    """`count` e-mails of about 4 KiB, each with its own Message-ID and text."""
    made = []
    for _ in range(count):
        number = next(serial)
        message = EmailMessage()
        message["From"] = f"Customer {number} <customer.{number}@example.fi>"
        message["To"] = "service@example-company.fi"
        message["Subject"] = f"Question about invoice {number}"
        message["Date"] = "Mon, 02 Mar 2026 09:15:00 +0200"
        message["Message-ID"] = f"<bench-{number}@example.fi>"
        message.set_content(f"Message {number}.\n" + "My invoice looks wrong to me.\n" * 60)
        message.add_attachment(
            number.to_bytes(8, "big") * 128, maintype="application", subtype="pdf",
            filename=f"invoice-{number}.pdf",
        )  # fmt: skip
        made.append(message.as_bytes(policy=message.policy.clone(linesep="\r\n")))
    return made


def split(batch: list[bytes], parts: int) -> list[list[bytes]]:
    return [batch[i::parts] for i in range(parts)]


def smtp_sender(port: int) -> Send:
    def send(batch: list[bytes]) -> None:
        with smtplib.SMTP(LOOPBACK, port, timeout=120) as smtp:
            for raw in batch:
                smtp.sendmail("journal@example-company.fi", ["service@example-company.fi"], raw)

    return send


def api_sender(base_url: str, headers: dict[str, str]) -> Send:
    def send(batch: list[bytes]) -> None:
        with httpx.Client(base_url=base_url, headers=headers, timeout=120) as client:
            for raw in batch:
                answer = client.post(
                    "/api/v1/contacts/emails",
                    content=raw,
                    headers={"Content-Type": "message/rfc822"},
                )
                answer.raise_for_status()

    return send


def rate(send: Send, batch: list[bytes], connections: int) -> float:
    """Messages a second, `batch` sent over `connections` at once."""
    started = time.perf_counter()
    with ThreadPoolExecutor(connections) as pool:
        list(pool.map(send, split(batch, connections)))
    return len(batch) / (time.perf_counter() - started)


def run(count: int, rounds: int, work_dir: Path, database_url: str | None) -> dict[str, Any]:
    serial = itertools.count(1)
    api = ArchiveServer(work_dir / "archive", None, database_url)
    smtp_port = free_port()
    env = {
        **api.env,
        "ARCHIVE_SMTP_HOST": LOOPBACK,
        "ARCHIVE_SMTP_PORT": str(smtp_port),
        "ARCHIVE_SMTP_ALLOW": LOOPBACK,
    }
    with api:
        smtp = subprocess.Popen(
            [*archive_command(), "smtp"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for_port(smtp_port, START_TIMEOUT, "archive smtp")
            ways: dict[str, tuple[Send, int]] = {
                "smtp, 1 connection": (smtp_sender(smtp_port), 1),
                f"smtp, {CONNECTIONS} connections": (smtp_sender(smtp_port), CONNECTIONS),
                "api, 1 connection": (api_sender(api.base_url, api.login()), 1),
                f"api, {CONNECTIONS} connections": (
                    api_sender(api.base_url, api.login()),
                    CONNECTIONS,
                ),
            }
            # A warm-up of each way, not counted.
            for send, connections in ways.values():
                rate(send, messages(connections * 2, serial), connections)
            rates: dict[str, list[float]] = {name: [] for name in ways}
            names = list(ways)
            for number in range(rounds):
                order = names[number % len(names) :] + names[: number % len(names)]
                for name in order:
                    send, connections = ways[name]
                    rates[name].append(rate(send, messages(count, serial), connections))
        finally:
            stop(smtp)
    return {
        "database": "postgresql" if database_url else "sqlite",
        "count": count,
        "rounds": rounds,
        "messages_per_second": {name: median(values) for name, values in rates.items()},
        "runs": rates,
    }


@click.command()
@click.option("--count", default=200, show_default=True, help="Messages a way, a round.")
@click.option("--rounds", default=3, show_default=True)
@click.option(
    "--postgres",
    is_flag=True,
    help="On a new database of the PostgreSQL server ARCHIVE_TEST_POSTGRES_URL names (local "
    "store), instead of the embedded default's SQLite.",
)
def main(count: int, rounds: int, postgres: bool) -> None:
    """Stored e-mails a second: SMTP against the API, over one connection and over ten."""
    with ExitStack() as stack:
        work = stack.enter_context(tempfile.TemporaryDirectory(prefix="smtp-bench-"))
        url = stack.enter_context(new_database("archive_bench_smtp")) if postgres else None
        results = run(count, rounds, Path(work), url)
    table = Table("way", "messages/s (median)", "runs")
    for name, value in results["messages_per_second"].items():
        runs = ", ".join(f"{r:.1f}" for r in results["runs"][name])
        table.add_row(name, f"{value:.1f}", runs)
    Console().print(table)
    path = write_results("smtp_throughput" + ("_postgresql" if postgres else ""), results)
    click.echo(f"results: {path}")


if __name__ == "__main__":
    main()
