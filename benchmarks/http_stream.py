"""HTTP ingest and download of a call recording against plain OS operations on the same bytes.

Run from the repository root:

    python -m benchmarks.http_stream [--size-mb 200] [--runs 5]

The real server (`archive serve`, SQLite and the local store) runs as a child process on a
temporary data directory. Each run, in turn and on the same filesystem:

- writes the recording's bytes to a plain file, `fsync`s it and closes it: the disk's limit;
- POSTs the same bytes to /api/v1/contacts/calls, streamed from a generator, and waits for
  the answer (hashed, encrypted, written, fsynced and recorded by then), and POSTs them to a
  plain-file server on the same stack that writes and fsyncs them, in turns which goes first;
- reads the plain file back and hashes it (the page cache's limit);
- GETs the recording back whole, checking every byte's hash, and GETs the plain file the same
  way from a plain-file server on the same stack (uvicorn and Litestar's `File`), in turns
  which goes first: the download's goal is 0.7x that server.

The client shares the machine's cores with the server, as a recorder on the same host would;
the figures are ratios taken in one run, with the median and min-max over the runs, and each
server's own CPU seconds per GB.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
import httpx
from rich.console import Console
from rich.table import Table

from benchmarks._common import CHUNK_SIZE, Recording, mb_per_second, median, write_results
from benchmarks._server import ArchiveServer, PlainFileServer, cpu_ticks
from benchmarks.ingest_throughput import plain_file, plain_path
from benchmarks.memory import Client, fetch

MIB = 1 << 20
TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")
TARGET = 0.7


def plain_read(path: Path) -> float:
    started = time.perf_counter()
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(CHUNK_SIZE):
            digest.update(chunk)  # the download is hashed too, so both do the same work
    return time.perf_counter() - started


def send_plain(http: httpx.Client, recording: Recording) -> None:
    """POST the recording to the plain-file server, hashed on the way as `Client.upload` does."""
    digest = hashlib.sha256()

    def body() -> Iterator[bytes]:
        for chunk in recording.chunks():
            digest.update(chunk)
            yield chunk

    answer = http.post(
        f"/files/upload-{recording.seed}",
        content=body(),
        headers={"Content-Length": str(recording.size), "Content-Type": "audio/wav"},
    )
    answer.raise_for_status()


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
    seconds: dict[str, list[float]] = {
        "write": [],
        "ingest": [],
        "read": [],
        "download": [],
        "plain_server": [],
        "plain_upload": [],
    }
    # The servers' own CPU seconds per download: on a machine shared with other work the
    # clock depends on who else runs; the CPU a server spends on the same bytes does less.
    cpu: dict[str, list[float]] = {
        "ingest": [],
        "plain_upload": [],
        "download": [],
        "plain_server": [],
    }
    with tempfile.TemporaryDirectory() as work:
        data, plain_dir = Path(work) / "data", Path(work) / "plain"
        plain_dir.mkdir()
        with (
            ArchiveServer(data, None) as server,
            httpx.Client(base_url=server.base_url, headers=server.login(), timeout=600) as http,
            PlainFileServer(plain_dir) as plain_server,
            httpx.Client(base_url=plain_server.base_url, timeout=600) as to_plain,
        ):
            client = Client(http)
            for run in range(runs):
                recording = Recording.make(size, run, block)
                seconds["write"].append(plain_file(plain_dir, recording, keep=True))
                plain = plain_path(plain_dir, recording)
                uploads = [
                    ("ingest", lambda: sent.append(client.upload(recording))),  # noqa: B023
                    ("plain_upload", lambda: send_plain(to_plain, recording)),  # noqa: B023
                ]
                sent: list[tuple[str, bytes]] = []
                for step, action in uploads if run % 2 == 0 else uploads[::-1]:
                    busy = (server if step == "ingest" else plain_server).pid
                    used = cpu_ticks(busy)
                    seconds[step].append(timed(action))
                    cpu[step].append((cpu_ticks(busy) - used) / TICKS_PER_SECOND)
                contact, digest = sent[0]
                seconds["read"].append(plain_read(plain))
                downloads = [
                    ("download", lambda: client.download(contact, size, digest)),  # noqa: B023
                    (
                        "plain_server",
                        lambda: fetch(to_plain, f"/files/{plain.name}", size, digest),  # noqa: B023
                    ),
                ]
                for step, download in downloads if run % 2 == 0 else downloads[::-1]:
                    busy = (server if step == "download" else plain_server).pid
                    used = cpu_ticks(busy)
                    seconds[step].append(timed(download))
                    cpu[step].append((cpu_ticks(busy) - used) / TICKS_PER_SECOND)
                plain.unlink()
                (plain_dir / f"upload-{recording.seed}").unlink()
    rates = {step: [mb_per_second(size, s) for s in spent] for step, spent in seconds.items()}
    ratios = {
        "ingest_vs_write_fsync": [
            i / w for i, w in zip(rates["ingest"], rates["write"], strict=True)
        ],
        "download_vs_read": [d / r for d, r in zip(rates["download"], rates["read"], strict=True)],
        "ingest_vs_plain_upload": [
            i / u for i, u in zip(rates["ingest"], rates["plain_upload"], strict=True)
        ],
        "download_vs_plain_server": [
            d / p for d, p in zip(rates["download"], rates["plain_server"], strict=True)
        ],
    }
    results = {
        "size_bytes": size,
        "runs": runs,
        "mb_per_second": rates,
        "ratios": ratios,
        "server_cpu_seconds": cpu,
        "load_average": os.getloadavg(),
    }
    table = Table(title=f"{size_mb} MiB call over HTTP, {runs} runs: MB/s median (min-max)")
    for column in ("step", "MB/s", "against", "ratio"):
        table.add_column(column, justify="left" if column in ("step", "against") else "right")
    for step, base, name in (
        ("ingest", "write", "ingest_vs_write_fsync"),
        ("ingest", "plain_upload", "ingest_vs_plain_upload"),
        ("download", "read", "download_vs_read"),
        ("download", "plain_server", "download_vs_plain_server"),
    ):
        for shown in (base, step):
            found = rates[shown]
            table.add_row(shown, f"{median(found):.0f} ({min(found):.0f}-{max(found):.0f})", "", "")
        ratio = ratios[name]
        informative = ("download_vs_read", "ingest_vs_plain_upload")
        mark = "" if name in informative else "ok" if median(ratio) >= TARGET else "below"
        table.add_row(
            "",
            "",
            f"{step} / {base}",
            f"{median(ratio):.2f} ({min(ratio):.2f}-{max(ratio):.2f}) {mark}",
        )
    console.print(table)
    for step, label in (
        ("ingest", "archive, ingest"),
        ("plain_upload", "plain-file server, upload"),
        ("download", "archive, download"),
        ("plain_server", "plain-file server, download"),
    ):
        per_gb = [spent / (size / 1e9) for spent in cpu[step]]
        console.print(
            f"{label}: {median(per_gb):.2f} ({min(per_gb):.2f}-{max(per_gb):.2f}) "
            "server CPU seconds per GB"
        )
    console.print(f"written to {write_results('http_stream', results)}")


if __name__ == "__main__":
    main()
