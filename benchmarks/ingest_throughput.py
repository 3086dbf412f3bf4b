"""Ingest throughput of call recordings next to the backend's raw write speed and raw AES-GCM.

Run from the repository root:

    python -m benchmarks.ingest_throughput --size-mb 100 --count 5 --backend both

Each run ingests one synthetic WAV recording through `IngestService.ingest_call` and, in turn,
writes the same bytes with the same 1 MiB chunking straight into the store with
`store.put` (the backend's physical limit, fsync and atomic rename included). The order of the
two alternates from run to run so neither always meets a warmer or a busier disk.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import click
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from rich.console import Console
from rich.table import Table

from archive.contacts.ingest import CallParties, Envelope, IngestService
from archive.contacts.models import Direction
from archive.contacts.objects import new_storage_key
from archive.runtime import Runtime
from benchmarks._common import MIB, Recording, mb_per_second, median, shared_block, write_results
from benchmarks._profile import profile_run
from benchmarks._runtimes import BACKENDS, benchmark_runtime

#: Ingest should reach this share of the raw store's speed on the local backend.
TARGET_RATIO = 0.8
#: Small enough to cost nothing, large enough to pass through every step of an ingest.
WARM_UP_SIZE = 2 * MIB
WARM_UP_SEED = (1 << 63) - 1

Timed = Callable[[Recording], float]


def ingest(runtime: Runtime, recording: Recording) -> float:
    """Seconds to ingest `recording` as a call, from first chunk to committed row.

    The stored objects are removed afterwards, as `store_put` removes its own. A kept file
    holds on to its pages in the page cache, so the next write needs memory the system has
    not used yet; on a virtual machine that made whichever measurement came next up to four
    times slower, and the run order, not the code, decided the ratio.
    """
    with runtime.session() as session:
        service = IngestService(session, runtime)
        started = time.perf_counter()
        result = service.ingest_call(
            Envelope(direction=Direction.INBOUND, agent="benchmark"),
            CallParties(
                caller="+358401234567",
                callee="+358201234567",
                filename=f"call-{recording.seed}.wav",
            ),
            recording.chunks(),
        )
        elapsed = time.perf_counter() - started
        runtime.store.delete_many(obj.storage_key for obj in result.contact.objects)
        return elapsed


def store_put(runtime: Runtime, recording: Recording) -> float:
    """Seconds to write the plaintext bytes straight into the store; the object is removed after."""
    key = new_storage_key()
    started = time.perf_counter()
    runtime.store.put(key, recording.chunks())
    elapsed = time.perf_counter() - started
    runtime.store.delete_many([key])
    return elapsed


def plain_path(directory: Path, recording: Recording) -> Path:
    """Where `plain_file` writes `recording` in `directory`."""
    return directory / f"plain-{recording.seed}"


def plain_file(directory: Path, recording: Recording, *, keep: bool = False) -> float:
    """Seconds for the simplest durable write: one file, written, fsynced and closed.

    The local store does more (a temporary name, a rename, synced directories); this line shows
    what the disk itself takes, so neither the store nor the ingest can hide behind the other.
    The file is removed afterwards unless `keep`, at `plain_path`, for reading it back.
    """
    path = plain_path(directory, recording)
    started = time.perf_counter()
    with path.open("wb") as file:
        for chunk in recording.chunks():
            file.write(chunk)
        file.flush()
        os.fsync(file.fileno())
    elapsed = time.perf_counter() - started
    if not keep:
        path.unlink()
    return elapsed


def aes_gcm(recording: Recording) -> float:
    """Seconds to seal every 1 MiB chunk with AES-256-GCM: the cipher's own limit here."""
    cipher = AESGCM(AESGCM.generate_key(bit_length=256))
    started = time.perf_counter()
    for index, chunk in enumerate(recording.chunks()):
        cipher.encrypt(index.to_bytes(12, "big"), chunk, None)
    return time.perf_counter() - started


def sha256(recording: Recording) -> float:
    """Seconds to hash the recording, as ingest does to record its digest."""
    digest = hashlib.sha256()
    started = time.perf_counter()
    for chunk in recording.chunks():
        digest.update(chunk)
    return time.perf_counter() - started


def generate(recording: Recording) -> float:
    """Seconds to produce the chunks alone: the floor under every other figure."""
    started = time.perf_counter()
    for _ in recording.chunks():
        pass
    return time.perf_counter() - started


def measure(size: int, count: int, backends: list[str], work_dir: Path) -> dict[str, Any]:
    block = shared_block()
    recordings = [Recording.make(size, seed=run, block=block) for run in range(count)]
    cpu: dict[str, list[float]] = {"generate": [], "sha256": [], "aes-256-gcm": []}
    baselines: list[tuple[str, Timed]] = [
        ("generate", generate),
        ("sha256", sha256),
        ("aes-256-gcm", aes_gcm),
    ]
    for recording in recordings:
        for name, timed in baselines:
            cpu[name].append(timed(recording))
    stores: dict[str, dict[str, list[float]]] = {}
    for backend in backends:
        with benchmark_runtime(backend, work_dir) as runtime:
            ingest(runtime, Recording.make(WARM_UP_SIZE, seed=WARM_UP_SEED, block=block))
            runs: dict[str, list[float]] = {"store": [], "ingest": []}
            if backend == "local":
                runs["file"] = []
            for run, recording in enumerate(recordings):
                pair: list[tuple[str, Timed]] = [
                    ("store", partial(store_put, runtime)),
                    ("ingest", partial(ingest, runtime)),
                ]
                if backend == "local":
                    pair.insert(1, ("file", partial(plain_file, work_dir)))
                for name, timed in pair if run % 2 == 0 else reversed(pair):
                    runs[name].append(timed(recording))
            stores[backend] = runs
    return {"size_bytes": size, "count": count, "cpu_seconds": cpu, "store_seconds": stores}


def summarise(measured: dict[str, Any]) -> dict[str, Any]:
    """Median throughput of each step and the ingest/raw-store ratio of each backend."""
    size = measured["size_bytes"]

    def rate(seconds: list[float]) -> float:
        return mb_per_second(size, median(seconds))

    summary: dict[str, Any] = {
        name: rate(seconds) for name, seconds in measured["cpu_seconds"].items()
    }
    for backend, runs in measured["store_seconds"].items():
        store, ingested = rate(runs["store"]), rate(runs["ingest"])
        summary[backend] = {"store": store, "ingest": ingested, "ratio": ingested / store}
        if "file" in runs:
            plain = rate(runs["file"])
            summary[backend].update(file=plain, file_ratio=ingested / plain)
    return summary


def show(summary: dict[str, Any], size: int, count: int, console: Console) -> None:
    table = Table(title=f"{count} recordings of {size / MIB:.0f} MiB, median of runs")
    table.add_column("step")
    table.add_column("MB/s", justify="right")
    table.add_column("ingest / raw store", justify="right")
    table.add_row("generate the bytes", f"{summary['generate']:.0f}", "")
    table.add_row("sha256", f"{summary['sha256']:.0f}", "")
    table.add_row("AES-256-GCM, 1 MiB segments", f"{summary['aes-256-gcm']:.0f}", "")
    for backend in BACKENDS:
        if backend not in summary:
            continue
        figures = summary[backend]
        target = f" (target ≥ {TARGET_RATIO})" if backend == "local" else ""
        if "file" in figures:
            table.add_row(
                "plain file write + fsync (disk)",
                f"{figures['file']:.0f}",
                f"{figures['file_ratio']:.2f} (ingest / this)",
            )
        table.add_row(f"raw store.put ({backend})", f"{figures['store']:.0f}", "")
        table.add_row(
            f"ingest_call ({backend})",
            f"{figures['ingest']:.0f}",
            f"{figures['ratio']:.2f}{target}",
        )
    console.print(table)


def profile_backends(
    size: int, backends: list[str], work_dir: Path, console: Console
) -> dict[str, dict[str, float]]:
    """One more raw put and ingest per backend under cProfile, folded into steps."""
    profiles = {}
    recording = Recording.make(size, seed=WARM_UP_SEED - 1, block=shared_block())
    for name in backends:
        with benchmark_runtime(name, work_dir / "profile") as runtime:
            # A full-size ingest first, so the profiled one meets a warm store (see `ingest`).
            ingest(runtime, Recording.make(size, seed=WARM_UP_SEED, block=recording.block))
            for step, timed in (("store", store_put), ("ingest", ingest)):
                what = f"one {'raw store.put' if step == 'store' else 'ingest_call'} on {name}"
                profiles[f"{name}/{step}"] = profile_run(
                    partial(timed, runtime, recording), size, what, console
                )
    return profiles


@click.command()
@click.option("--size-mb", default=100, show_default=True, help="Size of each recording in MiB.")
@click.option("--count", default=5, show_default=True, help="Recordings per backend.")
@click.option(
    "--backend",
    type=click.Choice([*BACKENDS, "both"]),
    default="local",
    show_default=True,
)
@click.option(
    "--profile",
    is_flag=True,
    help="Also ingest one recording under cProfile and show where the time goes.",
)
def main(size_mb: int, count: int, backend: str, profile: bool) -> None:
    """Measure ingest throughput against the raw store and raw AES-GCM."""
    if size_mb < 1 or count < 1:
        raise click.BadParameter("--size-mb and --count must be at least 1")
    backends = list(BACKENDS) if backend == "both" else [backend]
    size = size_mb * MIB
    console = Console()
    with tempfile.TemporaryDirectory(prefix="archive-bench-") as work:
        measured = measure(size, count, backends, Path(work))
        summary = summarise(measured)
        show(summary, size, count, console)
        profiles = profile_backends(size, backends, Path(work), console) if profile else {}
    path = write_results(
        "ingest_throughput", {**measured, "summary": summary, "profiles": profiles}
    )
    console.print(f"results written to {path}", soft_wrap=True)


if __name__ == "__main__":
    main()
