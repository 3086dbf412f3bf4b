"""HTTP ingest and download of a call recording against plain OS operations on the same bytes.

Run from the repository root:

    python -m benchmarks.http_stream [--size-mb 200] [--runs 5]

The real server (`archive serve`, SQLite and the local store) runs as a child process on a
temporary data directory. Each run, in turn and on the same filesystem:

- writes the recording's bytes to a plain file, `fsync`s it and closes it: the disk's limit;
- POSTs the same bytes to /api/v1/contacts/calls, streamed from a generator, and waits for
  the answer (hashed, encrypted, written, fsynced and recorded by then);
- reads the plain file back (the page cache's limit);
- GETs the recording back whole, checking every byte's hash.

The client shares the machine's cores with the server, as a recorder on the same host would;
the figures are ratios taken in one run, with the median and min-max over the runs.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import httpx
from rich.console import Console
from rich.table import Table

from benchmarks._common import CHUNK_SIZE, Recording, mb_per_second, median, write_results
from benchmarks._server import ArchiveServer
from benchmarks.memory import Client

MIB = 1 << 20
TARGET = 0.7


def plain_write(recording: Recording, path: Path) -> float:
    started = time.perf_counter()
    with path.open("wb") as file:
        for chunk in recording.chunks():
            file.write(chunk)
        file.flush()
        os.fsync(file.fileno())
    return time.perf_counter() - started


def plain_read(path: Path) -> float:
    started = time.perf_counter()
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(CHUNK_SIZE):
            digest.update(chunk)  # the download is hashed too, so both do the same work
    return time.perf_counter() - started


def digest_of(recording: Recording) -> bytes:
    digest = hashlib.sha256()
    for chunk in recording.chunks():
        digest.update(chunk)
    return digest.digest()


def upload(http: httpx.Client, recording: Recording) -> str:
    """POST the recording as a call, as cheaply as a client can send it: the chunks as made,
    not hashed on the way (the digest is taken beforehand), so the client's share of the two
    cores stays small."""
    answer = http.post(
        "/api/v1/contacts/calls",
        content=recording.chunks(),
        params={"caller": "+358401234567", "filename": f"call-{recording.seed}.wav"},
        headers={"Content-Length": str(recording.size), "Content-Type": "audio/wav"},
    )
    answer.raise_for_status()
    contact = answer.json()["contact"]
    if contact["size_bytes"] != recording.size:
        raise RuntimeError(f"stored {contact['size_bytes']} bytes, sent {recording.size}")
    return str(contact["id"])


def timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


@click.command()
@click.option("--size-mb", default=200, show_default=True, help="Recording size in MiB.")
@click.option("--runs", default=5, show_default=True, help="Runs of each step.")
def main(size_mb: int, runs: int) -> None:
    console = Console()
    size = size_mb * MIB
    block = os.urandom(CHUNK_SIZE)
    seconds: dict[str, list[float]] = {"write": [], "ingest": [], "read": [], "download": []}
    with tempfile.TemporaryDirectory() as work:
        data = Path(work) / "data"
        with (
            ArchiveServer(data, None) as server,
            httpx.Client(base_url=server.base_url, headers=server.login(), timeout=600) as http,
        ):
            client = Client(http)
            for run in range(runs):
                recording = Recording.make(size, run, block)
                plain = Path(work) / f"plain-{run}.wav"
                seconds["write"].append(plain_write(recording, plain))
                started = time.perf_counter()
                contact, digest = client.upload(recording)
                seconds["ingest"].append(time.perf_counter() - started)
                seconds["read"].append(plain_read(plain))
                seconds["download"].append(
                    timed(lambda: client.download(contact, size, digest))  # noqa: B023
                )
                plain.unlink()
    rates = {step: [mb_per_second(size, s) for s in spent] for step, spent in seconds.items()}
    ratios = {
        "ingest_vs_write_fsync": [
            i / w for i, w in zip(rates["ingest"], rates["write"], strict=True)
        ],
        "download_vs_read": [d / r for d, r in zip(rates["download"], rates["read"], strict=True)],
    }
    results = {
        "size_bytes": size,
        "runs": runs,
        "mb_per_second": rates,
        "ratios": ratios,
        "load_average": os.getloadavg(),
    }
    table = Table(title=f"{size_mb} MiB call over HTTP, {runs} runs: MB/s median (min-max)")
    for column in ("step", "MB/s", "against", "ratio"):
        table.add_column(column, justify="left" if column in ("step", "against") else "right")
    for step, base, name in (
        ("ingest", "write", "ingest_vs_write_fsync"),
        ("download", "read", "download_vs_read"),
    ):
        for shown in (base, step):
            found = rates[shown]
            table.add_row(shown, f"{median(found):.0f} ({min(found):.0f}-{max(found):.0f})", "", "")
        ratio = ratios[name]
        mark = "ok" if median(ratio) >= TARGET else "below"
        table.add_row(
            "",
            "",
            f"{step} / {base}",
            f"{median(ratio):.2f} ({min(ratio):.2f}-{max(ratio):.2f}) {mark}",
        )
    console.print(table)
    console.print(f"written to {write_results('http_stream', results)}")


if __name__ == "__main__":
    main()
