"""Where one ingest spends its time: a cProfile run folded into the steps of an ingest."""

from __future__ import annotations

import cProfile
import pstats
from collections.abc import Callable
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

from benchmarks._common import mb_per_second


@dataclass(frozen=True)
class Step:
    """One step of an ingest, recognised by the profiled functions that make it up.

    A built-in (file "~") matches when its description contains `function`; a Python function
    must have exactly that name. `own` steps add up the time spent inside matching functions
    only (leaf work in C, such as hashing); the others add up the time spent in everything the
    matching function called.
    """

    name: str
    file_part: str
    function: str
    own: bool

    def matches(self, file: str, function: str) -> bool:
        if self.file_part not in file:
            return False
        return self.function in function if file == "~" else self.function == function


#: Over plain HTTP minio also hashes every part it sends, to sign the request.
SHA256 = "sha256 (digest; S3 over HTTP: signing too)"
UPLOAD = "S3 upload (minio put_object)"
INPUT = "generating the benchmark's input"
PULLED_BY_UPLOAD = (
    SHA256,
    "AES-256-GCM encryption",
    "re-cutting chunks into segments (copies)",
    INPUT,
)
#: pstats' table: (file, line, function) -> (calls, primitive calls, own, cumulative, callers).
Entries = dict[tuple[str, int, str], tuple[int, int, float, float, object]]
# Calls are per 1 MiB chunk, so cProfile's per-call cost is noise next to these figures.
STEPS = (
    Step(SHA256, "~", "'update' of '_hashlib.HASH'", own=True),
    Step("AES-256-GCM encryption", "~", "'encrypt' of 'cryptography", own=True),
    Step("re-cutting chunks into segments (copies)", "crypto/stream.py", "_split", own=True),
    Step("file write", "~", "'write' of '_io.BufferedWriter'", own=True),
    Step("fsync (file and directories)", "~", "posix.fsync", own=True),
    Step(UPLOAD, "minio/api.py", "put_object", own=False),
    Step("audio probe (reads the header back)", "contacts/audio.py", "probe_audio", own=False),
    Step("customer, data key, commit", "contacts/ingest.py", "_record", own=False),
    Step(INPUT, "benchmarks/_common.py", "chunk", own=False),
)


def profile_run(
    run: Callable[[], float], size: int, what: str, console: Console
) -> dict[str, float]:
    """Profile `run` (one write of `size` bytes), print the steps and return their seconds.

    `run` returns the seconds the write itself took; clean-up it does after that stays out of
    the total, and no step claims it.
    """
    profiler = cProfile.Profile()
    profiler.enable()
    total = run()
    profiler.disable()
    seconds = fold(pstats.Stats(profiler), total)
    table = Table(
        title=f"{what} under cProfile: {total:.3f} s, {mb_per_second(size, total):.0f} MB/s"
    )
    table.add_column("step")
    table.add_column("seconds", justify="right")
    table.add_column("share", justify="right")
    for name, spent in seconds.items():
        table.add_row(name, f"{spent:.3f}", f"{spent / total:.0%}")
    console.print(table)
    return {"total": total, **seconds}


def fold(stats: pstats.Stats, total: float) -> dict[str, float]:
    """Seconds per step; what no step claims is reported as the rest."""
    # pstats keeps its table in an attribute its stubs do not declare.
    table: Entries = stats.stats  # type: ignore[attr-defined]
    seconds: dict[str, float] = {}
    for step in STEPS:
        spent = 0.0
        for (file, _line, function), (_calls, _primitive, own, cumulative, _) in table.items():
            if step.matches(file, function):
                spent += own if step.own else cumulative
        if spent > 0:
            seconds[step.name] = spent
    # minio pulls the stream through hashing, encryption and the input generator while it
    # uploads, so its time contains theirs; count each once.
    upload = seconds.get(UPLOAD)
    if upload is not None:
        nested = sum(seconds.get(name, 0.0) for name in PULLED_BY_UPLOAD)
        seconds[UPLOAD] = max(upload - nested, 0.0)
    seconds["everything else"] = max(total - sum(seconds.values()), 0.0)
    return seconds
