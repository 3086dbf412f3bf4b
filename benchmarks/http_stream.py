"""HTTP ingest and download of a call recording against plain OS operations on the same bytes.

Run from the repository root:

    python -m benchmarks.http_stream [--size-mb 200] [--runs 5]

The real server (`archive serve`, SQLite and the local store) runs as a child process on a
temporary data directory. Each run, in turn and on the same filesystem:

- writes the recording's bytes to a plain file, `fsync`s it and closes it: the disk's limit;
- POSTs that file to /api/v1/contacts/calls and waits for the answer (hashed, encrypted,
  written, fsynced and recorded by then), and POSTs it to a plain-file server on the same stack
  that writes and fsyncs it, in turns which goes first. The client is curl (C), so that the
  upload measures the servers rather than a Python client sharing their cores; `--client httpx`
  streams the bytes from a generator instead, hashing them on the way;
- reads the plain file back and hashes it (the page cache's limit);
- GETs the recording back whole, checking every byte's hash, and GETs the plain file the same
  way from a plain-file server on the same stack (uvicorn and Litestar's `File`), in turns
  which goes first: the download's goal is 0.7x that server.

The clients share the machine's cores with the server, as a recorder on the same host would;
the figures are ratios taken in one run, with the median and min-max over the runs, and each
server's own CPU seconds per GB.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
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


def curl_upload(url: str, path: Path, headers: dict[str, str]) -> bytes:
    """POST the file at `path` to `url` with curl; the answer's body (curl fails on a 4xx/5xx).

    No `Expect: 100-continue`: curl would otherwise ask before sending any large body, and a
    recorder posting to the archive has no reason to wait for the go-ahead.
    """
    command = ["curl", "--silent", "--show-error", "--fail-with-body", "--request", "POST"]
    for name, value in {**headers, "Expect": "", "Content-Type": "audio/wav"}.items():
        command += ["--header", f"{name}: {value}"]
    done = subprocess.run(
        [*command, "--upload-file", str(path), url], capture_output=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"curl failed ({done.returncode}): {done.stdout!r} {done.stderr!r}")
    return done.stdout


def curl_ingest(server: ArchiveServer, headers: dict[str, str], path: Path, seed: int) -> str:
    """Ingest the call at `path` as `Client.upload` does, with curl; the contact's id."""
    query = httpx.QueryParams(
        caller="+358401234567", callee="+358201234567", filename=f"call-{seed}.wav"
    )
    url = f"{server.base_url}/api/v1/contacts/calls?{query}"
    contact = json.loads(curl_upload(url, path, headers))["contact"]
    if contact["size_bytes"] != path.stat().st_size:
        raise RuntimeError(f"stored {contact['size_bytes']} bytes, sent {path.stat().st_size}")
    return str(contact["id"])


def digest_of(recording: Recording) -> bytes:
    digest = hashlib.sha256()
    for chunk in recording.chunks():
        digest.update(chunk)
    return digest.digest()


def evict(directory: Path) -> None:
    """Drop the pages of every file under `directory` from the page cache (they are synced).

    The plain files of a run are removed at its end, and the pages they held are what the next
    run's writes land in. The archive's stored recordings stay; without this their pages stay
    taken, and every ingest would write into memory that the others' writes do not pay for.
    """
    for path in directory.rglob("*"):
        if path.is_file():
            with path.open("rb") as file:
                os.posix_fadvise(file.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)


def timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


@click.command()
@click.option("--size-mb", default=200, show_default=True, help="Recording size in MiB.")
@click.option("--runs", default=5, show_default=True, help="Runs of each step.")
@click.option(
    "--client",
    "client_kind",
    type=click.Choice(["curl", "httpx"]),
    default="curl",
    show_default=True,
    help="What uploads: curl from the plain file, or httpx from a generator.",
)
def main(size_mb: int, runs: int, client_kind: str) -> None:
    console = Console()
    if client_kind == "curl" and shutil.which("curl") is None:
        raise click.UsageError("curl is not installed: install it, or pass --client httpx")
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
            headers = {"Authorization": http.headers["Authorization"]}
            for run in range(runs):
                recording = Recording.make(size, run, block)
                seconds["write"].append(plain_file(plain_dir, recording, keep=True))
                plain = plain_path(plain_dir, recording)
                sent: list[tuple[str, bytes]] = []
                if client_kind == "curl":
                    digest = digest_of(recording)
                    uploads = [
                        (
                            "ingest",
                            lambda: sent.append(  # noqa: B023
                                (curl_ingest(server, headers, plain, recording.seed), digest)  # noqa: B023
                            ),
                        ),
                        (
                            "plain_upload",
                            lambda: curl_upload(
                                f"{plain_server.base_url}/files/upload-{recording.seed}",  # noqa: B023
                                plain,  # noqa: B023
                                {},
                            ),
                        ),
                    ]
                else:
                    uploads = [
                        ("ingest", lambda: sent.append(client.upload(recording))),  # noqa: B023
                        ("plain_upload", lambda: send_plain(to_plain, recording)),  # noqa: B023
                    ]
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
                evict(data / "objects")
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
        "client": client_kind,
        "load_average": os.getloadavg(),
    }
    table = Table(
        title=f"{size_mb} MiB call over HTTP, {runs} runs, uploads by {client_kind}: "
        "MB/s median (min-max)"
    )
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
