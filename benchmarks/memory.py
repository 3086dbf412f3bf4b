"""Peak memory growth of the real API server while it ingests and serves one large recording.

Run from the repository root:

    python -m benchmarks.memory --size-mb 1024 --backend both

The server (`archive serve`) runs as a child process on a temporary data directory. The
benchmark streams a WAV-shaped body into POST /api/v1/contacts/calls, generated on the fly and
never held whole, then reads it back with a streamed GET and a few Range requests, checking
every byte. For each phase the server's peak RSS (VmHWM, reset before the phase) is compared
with its RSS when the phase began.

Then (local store) `--concurrent` clients download one recording of `--concurrent-size-mb` at
once, from the archive and, interleaved run by run, from a plain-file server on the same stack
(uvicorn and Litestar's `File`) holding the same bytes in a plain file.
"""

from __future__ import annotations

import hashlib
import random
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import click
import httpx
from rich.console import Console
from rich.table import Table

from archive.testing.s3 import remove_bucket, s3_endpoint
from benchmarks._common import (
    CHUNK_SIZE,
    MIB,
    Recording,
    mb_per_second,
    median,
    shared_block,
    write_results,
)
from benchmarks._server import ArchiveServer, PlainFileServer, Watched, sampled_peak

#: The server's RSS may grow by less than this while handling one recording of any size.
TARGET_GROWTH = 64 * MIB
RANGE_LENGTH = MIB
SUFFIX_LENGTH = 64 * 1024
WARM_UP_SIZE = 2 * MIB
TIMEOUT = httpx.Timeout(600.0, connect=30.0)
BACKENDS = ("local", "s3")
#: The server's RSS may grow by less than this while that many clients download at once.
CONCURRENT_TARGET = 64 * MIB


class Client:
    """The benchmark's side of the conversation; it checks everything the server returns."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http

    def upload(self, recording: Recording) -> tuple[str, bytes]:
        """Ingest `recording` as a call; return the contact id and the body's sha256."""
        digest = hashlib.sha256()

        def body() -> Iterator[bytes]:
            for chunk in recording.chunks():
                digest.update(chunk)
                yield chunk

        response = self.http.post(
            "/api/v1/contacts/calls",
            content=body(),
            params={
                "caller": "+358401234567",
                "callee": "+358201234567",
                "filename": f"call-{recording.seed}.wav",
            },
            # A real recorder knows the length; the server refuses an oversized one at once.
            headers={"Content-Length": str(recording.size), "Content-Type": "audio/wav"},
        )
        response.raise_for_status()
        contact = response.json()["contact"]
        if contact["size_bytes"] != recording.size:
            raise RuntimeError(f"stored {contact['size_bytes']} bytes, sent {recording.size}")
        return str(contact["id"]), digest.digest()

    def download(self, contact_id: str, size: int, expected: bytes) -> None:
        """Stream the whole recording back, discarding it after hashing."""
        fetch(self.http, f"/api/v1/contacts/{contact_id}/content", size, expected)

    def ranges(self, contact_id: str, recording: Recording, count: int) -> list[float]:
        """Seconds per Range request: `count` seeks of 1 MiB, then the last 64 KiB."""
        spots = random.Random(recording.seed)
        wanted = [
            (start, start + RANGE_LENGTH)
            for start in (spots.randrange(recording.size - RANGE_LENGTH) for _ in range(count))
        ]
        wanted.append((recording.size - SUFFIX_LENGTH, recording.size))
        seconds = []
        for start, end in wanted:
            header = f"bytes={start}-{end - 1}"
            began = time.perf_counter()
            response = self.http.get(
                f"/api/v1/contacts/{contact_id}/content", headers={"Range": header}
            )
            seconds.append(time.perf_counter() - began)
            if response.status_code != 206 or response.content != recording.slice(start, end):
                raise RuntimeError(f"range {header} came back wrong ({response.status_code})")
        return seconds

    def export(self, contact_id: str, recording_digest: bytes) -> dict[str, float]:
        """An access request for the call's customer: build the bundle, download it through a
        one-time link, and find the recording in it intact."""
        customer = self.http.get(f"/api/v1/contacts/{contact_id}").json()["customer_id"]
        case = self.http.post(
            "/api/v1/privacy/cases", json={"customer_id": customer, "kind": "access"}
        ).json()["id"]
        self.http.post(
            f"/api/v1/privacy/cases/{case}/identity", json={"method": "in_person"}
        ).raise_for_status()
        began = time.perf_counter()
        bundle = self.http.post(f"/api/v1/privacy/cases/{case}/export").json()
        while bundle["state"] in ("queued", "building"):
            time.sleep(0.2)
            bundle = self.http.get(f"/api/v1/privacy/exports/{bundle['id']}").json()
        if bundle["state"] != "ready":
            raise RuntimeError(f"the export bundle failed: {bundle['error']}")
        built = time.perf_counter() - began
        link = self.http.post(f"/api/v1/privacy/exports/{bundle['id']}/link").json()["url"]
        began = time.perf_counter()
        with tempfile.TemporaryFile() as spool:
            digest = hashlib.sha256()
            with self.http.stream("GET", link) as response:
                response.raise_for_status()
                for part in response.iter_bytes(CHUNK_SIZE):
                    digest.update(part)
                    spool.write(part)
            if digest.hexdigest() != bundle["sha256"]:
                raise RuntimeError("the bundle downloaded differs from the one built")
            spool.seek(0)
            with zipfile.ZipFile(spool) as archive:
                (member,) = [n for n in archive.namelist() if f"{contact_id}/recording." in n]
                inner = hashlib.sha256()
                with archive.open(member) as stream:
                    while piece := stream.read(CHUNK_SIZE):
                        inner.update(piece)
            if inner.digest() != recording_digest:
                raise RuntimeError("the recording in the bundle differs from the one sent")
        return {"build_seconds": built, "download_seconds": time.perf_counter() - began}


def fetch(http: httpx.Client, path: str, size: int, expected: bytes) -> None:
    """GET `path` streamed, hashing and discarding it; it must be `size` bytes of `expected`."""
    digest = hashlib.sha256()
    received = 0
    with http.stream("GET", path) as response:
        response.raise_for_status()
        for part in response.iter_bytes(CHUNK_SIZE):
            digest.update(part)
            received += len(part)
    if received != size or digest.digest() != expected:
        raise RuntimeError(f"downloaded {received} bytes that differ from what was sent")


def measure_phase(server: Watched, work: Callable[[], object]) -> dict[str, Any]:
    """Run `work()` and report its seconds and the server's peak RSS growth during it."""
    reset = server.reset_peak()
    before = server.memory()["VmRSS"]
    with sampled_peak(server.pid) as sampled:
        started = time.perf_counter()
        extra = work()
        seconds = time.perf_counter() - started
    after = server.memory()
    return {
        "seconds": seconds,
        "rss_before": before,
        "peak_rss": after["VmHWM"],
        "growth": after["VmHWM"] - before,
        "sampled_growth": sampled[0] - before,
        "peak_reset": reset,
        "detail": extra,
    }


def run_backend(backend: str, size: int, range_count: int, work_dir: Path) -> dict[str, Any]:
    block = shared_block()
    recording = Recording.make(size, seed=1, block=block)
    with ExitStack() as cleanup:
        endpoint = (
            cleanup.enter_context(s3_endpoint(separate_process=True)) if backend == "s3" else None
        )
        server = ArchiveServer(work_dir / backend, endpoint)
        if endpoint is not None:
            cleanup.callback(remove_bucket, endpoint, server.env["ARCHIVE_S3_BUCKET"])
        cleanup.enter_context(server)
        http = httpx.Client(base_url=server.base_url, timeout=TIMEOUT, headers=server.login())
        client = Client(cleanup.enter_context(http))
        # One small round trip first, so imports and first connections are not counted.
        small = Recording.make(WARM_UP_SIZE, seed=0, block=block)
        small_id, small_digest = client.upload(small)
        client.download(small_id, small.size, small_digest)
        client.ranges(small_id, small, 1)

        sent: dict[str, Any] = {}

        def ingest() -> None:
            sent["id"], sent["digest"] = client.upload(recording)

        def retrieve() -> dict[str, float]:
            began = time.perf_counter()
            client.download(sent["id"], size, sent["digest"])
            download = time.perf_counter() - began
            latencies = client.ranges(sent["id"], recording, range_count)
            return {"download_seconds": download, "range_median_seconds": median(latencies)}

        ingested = measure_phase(server, ingest)
        if not ingested["peak_reset"]:
            server.stop()  # the kernel would not reset the peak: a fresh process starts low
            server.start()
        retrieved = measure_phase(server, retrieve)
        if not retrieved["peak_reset"]:
            server.stop()
            server.start()
            client.http.headers.update(server.login())
        exported = measure_phase(server, lambda: client.export(sent["id"], sent["digest"]))
    return {"ingest": ingested, "retrieve": retrieved, "export": exported}


class Downloads:
    """`count` clients at once, each GETting the same file whole from one server."""

    def __init__(self, name: str, server: Watched, path: str) -> None:
        self.name = name
        self.server = server
        self.path = path

    def run(self, http: httpx.Client, count: int, size: int, digest: bytes) -> dict[str, Any]:
        def all_at_once() -> None:
            with ThreadPoolExecutor(count) as pool:
                done = [pool.submit(fetch, http, self.path, size, digest) for _ in range(count)]
                for each in done:
                    each.result()

        return measure_phase(self.server, all_at_once)


def run_concurrent(size: int, count: int, runs: int, work_dir: Path) -> dict[str, Any]:
    """Growth of the archive and of a plain-file server under `count` concurrent downloads,
    alternating which goes first from run to run."""
    recording = Recording.make(size, seed=2, block=shared_block())
    plain = work_dir / "plain-files"
    plain.mkdir()
    with (plain / "call.wav").open("wb") as file:
        for chunk in recording.chunks():
            file.write(chunk)
    figures: dict[str, list[dict[str, Any]]] = {"archive": [], "plain file": []}
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    with (
        ArchiveServer(work_dir / "concurrent", None) as archive,
        PlainFileServer(plain) as plain_server,
        httpx.Client(
            base_url=archive.base_url, timeout=TIMEOUT, headers=archive.login(), limits=limits
        ) as to_archive,
        httpx.Client(base_url=plain_server.base_url, timeout=TIMEOUT, limits=limits) as to_plain,
    ):
        contact, digest = Client(to_archive).upload(recording)
        sides = [
            (Downloads("archive", archive, f"/api/v1/contacts/{contact}/content"), to_archive),
            (Downloads("plain file", plain_server, "/files/call.wav"), to_plain),
        ]
        for downloads, http in sides:  # warm-up: first connections and imports
            fetch(http, downloads.path, size, digest)
        for run in range(runs):
            for downloads, http in sides if run % 2 == 0 else sides[::-1]:
                figures[downloads.name].append(downloads.run(http, count, size, digest))
    return {"clients": count, "size_bytes": size, "runs": figures}


def show_concurrent(results: dict[str, Any], console: Console) -> None:
    count, size = results["clients"], results["size_bytes"]
    table = Table(
        title=f"server RSS growth, {count} clients downloading one {size / MIB:.0f} MiB "
        "recording at once: median (min-max)",
        caption=f"target: the archive grows under {CONCURRENT_TARGET / MIB:.0f} MiB",
    )
    for column in ("server", "peak growth", "polled", "MB/s, all clients"):
        table.add_column(column, justify="left" if column == "server" else "right")
    for name, runs in results["runs"].items():
        growth = [run["growth"] / MIB for run in runs]
        polled = [run["sampled_growth"] / MIB for run in runs]
        rates = [mb_per_second(size * count, run["seconds"]) for run in runs]
        over = "" if name != "archive" or median(growth) < CONCURRENT_TARGET / MIB else " OVER"
        table.add_row(
            name,
            f"{median(growth):.0f} ({min(growth):.0f}-{max(growth):.0f}) MiB{over}",
            f"{median(polled):.0f} ({min(polled):.0f}-{max(polled):.0f}) MiB",
            f"{median(rates):.0f} ({min(rates):.0f}-{max(rates):.0f})",
        )
    console.print(table)


def show(results: dict[str, Any], size: int, console: Console) -> None:
    table = Table(
        title=f"server RSS growth while handling one {size / MIB:.0f} MiB recording",
        caption=f"target: growth under {TARGET_GROWTH / MIB:.0f} MiB in each phase",
    )
    for column in ("backend", "phase", "MB/s", "RSS before", "peak growth", "polled", "ranges"):
        table.add_column(column, justify="left" if column in ("backend", "phase") else "right")
    for backend, phases in results.items():
        for phase, figures in phases.items():
            seconds, ranges = figures["seconds"], ""
            if phase == "retrieve":
                seconds = figures["detail"]["download_seconds"]
                ranges = f"{figures['detail']['range_median_seconds'] * 1000:.0f} ms"
            if phase == "export":
                # Building and downloading the bundle, each once over the recording's bytes.
                seconds = figures["detail"]["build_seconds"]
            over = "" if figures["growth"] < TARGET_GROWTH else " OVER"
            table.add_row(
                backend,
                phase,
                f"{mb_per_second(size, seconds):.0f}",
                f"{figures['rss_before'] / MIB:.0f} MiB",
                f"{figures['growth'] / MIB:.1f} MiB{over}",
                f"{figures['sampled_growth'] / MIB:.1f} MiB",
                ranges,
            )
    console.print(table)


@click.command()
@click.option("--size-mb", default=1024, show_default=True, help="Recording size in MiB.")
@click.option(
    "--backend",
    type=click.Choice([*BACKENDS, "both", "none"]),
    default="local",
    show_default=True,
    help="Backends of the one-recording phases; none for the concurrent downloads alone.",
)
@click.option("--ranges", "range_count", default=8, show_default=True, help="Range requests.")
@click.option(
    "--concurrent", default=20, show_default=True, help="Clients downloading at once (0: none)."
)
@click.option("--concurrent-size-mb", default=200, show_default=True, help="Their recording.")
@click.option("--concurrent-runs", default=3, show_default=True, help="Runs of each server.")
def main(
    size_mb: int,
    backend: str,
    range_count: int,
    concurrent: int,
    concurrent_size_mb: int,
    concurrent_runs: int,
) -> None:
    """Measure the API server's peak RSS growth while it ingests and serves a recording."""
    if size_mb < 2 or concurrent_size_mb < 2:
        raise click.BadParameter("recordings must be at least 2 MiB")
    size = size_mb * MIB
    console = Console()
    results: dict[str, Any] = {}
    together: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="archive-bench-") as work:
        names = {"both": list(BACKENDS), "none": []}.get(backend, [backend])
        for name in names:
            results[name] = run_backend(name, size, range_count, Path(work))
        if concurrent:
            together = run_concurrent(
                concurrent_size_mb * MIB, concurrent, concurrent_runs, Path(work)
            )
    if results:
        show(results, size, console)
    if together:
        show_concurrent(together, console)
    path = write_results(
        "memory", {"size_bytes": size, "backends": results, "concurrent": together}
    )
    console.print(f"results written to {path}", soft_wrap=True)


if __name__ == "__main__":
    main()
