"""Parse time and peak memory of the e-mail parser against message size, shape by shape.

Run from the repository root:

    python -m benchmarks.email_parse --sizes 1,5,25 --runs 3 [--stdlib]

For each shape of `archive/testing/pathological.py` and each size, a child process of its own
makes the message, parses a small one to load what a first parse loads, then times one
`parse_email` of it and reads its peak RSS growth (VmHWM, reset just before, minus VmRSS then;
the message itself is already held). The RSS figure counts memory outside Python's objects too,
but the allocator may reuse what making the message freed, so the child then parses once more
under tracemalloc and reports that peak as well: every Python object the parse made. Time
that grows in proportion to the size, and memory that does not grow with it, are what the
parser promises.

`--stdlib` also runs the standard library's parser (`email.policy.default`, the parser the
archive used before) on the same messages, reading the same headers and decoding every part,
in a child limited to `STDLIB_SECONDS` and `STDLIB_MEMORY`; where it does not finish within
those, the table says which limit it met.
"""

from __future__ import annotations

import gc
import re
import resource
import statistics
import time
import tracemalloc
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from multiprocessing import get_context
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from archive.contacts.email import parse_email
from archive.testing.pathological import SHAPES
from benchmarks._common import MIB, median, write_results

STDLIB_SECONDS = 60
STDLIB_MEMORY = 4 << 30  # address space of the child
CHILD_SECONDS = 120


def _status(field: str) -> int:
    """A memory figure of this process from /proc, in bytes."""
    found = re.search(rf"^{field}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.M)
    assert found is not None
    return int(found.group(1)) * 1024


def _ours(raw: bytes) -> None:
    parse_email(raw)


def _stdlib(raw: bytes) -> None:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    for name in ("subject", "from", "to", "cc", "message-id", "date"):
        str(message.get(name, ""))
    for part in message.walk():
        if isinstance(part, EmailMessage) and not part.is_multipart():
            part.get_payload(decode=True)


PARSERS = {"ours": _ours, "stdlib": _stdlib}


def _child(parser: str, shape: str, size: int, limit: bool, answer: Connection) -> None:
    """Measure one parse in this process and send its figures back."""
    if limit:
        resource.setrlimit(resource.RLIMIT_AS, (STDLIB_MEMORY, STDLIB_MEMORY))
    try:
        parse = PARSERS[parser]
        parse(SHAPES["parts"](64 * 1024))
        raw = SHAPES[shape](size)
        gc.collect()
        Path("/proc/self/clear_refs").write_text("5")  # VmHWM back to the current RSS
        before = _status("VmRSS")
        started = time.perf_counter()
        parse(raw)
        seconds = time.perf_counter() - started
        growth = _status("VmHWM") - before
        tracemalloc.start()
        parse(raw)
        traced = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        answer.send({"seconds": seconds, "growth": growth, "traced": traced, "size": len(raw)})
    except MemoryError:
        answer.send({"failed": f"over {STDLIB_MEMORY // (1 << 30)} GiB"})
    except RecursionError:
        answer.send({"failed": "RecursionError"})


def measure(parser: str, shape: str, size: int, *, limit: bool = False) -> dict[str, Any]:
    """One parse in a fresh child; {"failed": why} when it met a limit."""
    timeout = STDLIB_SECONDS if limit else CHILD_SECONDS
    context = get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(parser, shape, size, limit, send))
    child.start()
    send.close()
    try:
        if receive.poll(timeout):
            return dict(receive.recv())
        return {"failed": f"over {timeout} s"}
    except EOFError:
        return {"failed": f"child ended with {child.exitcode}"}
    finally:
        if child.is_alive():
            child.kill()
        child.join()


def spread(values: list[float], scale: float) -> str:
    """Median (min-max) of `values`, each divided by `scale`."""
    low, high = min(values) / scale, max(values) / scale
    return f"{median(values) / scale:.2f} ({low:.2f}-{high:.2f})"


def show(results: dict[str, Any], sizes: list[int], console: Console) -> None:
    table = Table(title="parse_email, median (min-max) of runs; growth: peak RSS above the message")
    table.add_column("shape")
    for column in ("size", "seconds", "ms per MiB", "RSS growth MiB", "traced MiB", "stdlib"):
        table.add_column(column, justify="right")
    for shape, by_size in results.items():
        for size in sizes:
            runs = by_size[str(size)]["ours"]
            seconds = [run["seconds"] for run in runs]
            stdlib = by_size[str(size)].get("stdlib")
            if stdlib is None:
                other = ""
            elif "failed" in stdlib:
                other = stdlib["failed"]
            else:
                other = f"{stdlib['seconds']:.2f} s, {stdlib['traced'] / MIB:.0f} MiB"
            table.add_row(
                shape,
                f"{size // MIB} MiB",
                spread(seconds, 1),
                f"{median(seconds) / (size / MIB) * 1000:.0f}",
                spread([run["growth"] for run in runs], MIB),
                f"{median([run['traced'] for run in runs]) / MIB:.2f}",
                other,
            )
    console.print(table)


@click.command()
@click.option("--sizes", default="1,5,25", show_default=True, help="Message sizes in MiB.")
@click.option("--runs", default=3, show_default=True, help="Runs per shape and size.")
@click.option("--shape", "shapes", multiple=True, help="Only these shapes (default: all).")
@click.option("--stdlib", is_flag=True, help="Also run the standard library's parser once.")
def main(sizes: str, runs: int, shapes: tuple[str, ...], stdlib: bool) -> None:
    """Parse time and peak memory of each pathological shape at each size."""
    sizes_mib = [int(size) for size in sizes.split(",")]
    if runs < 1 or min(sizes_mib) < 1:
        raise click.BadParameter("--runs and each size must be at least 1")
    unknown = set(shapes) - set(SHAPES)
    if unknown:
        raise click.BadParameter(f"unknown shapes: {', '.join(sorted(unknown))}")
    console = Console(width=120)
    byte_sizes = [size * MIB for size in sizes_mib]
    results: dict[str, Any] = {}
    for shape in shapes or tuple(SHAPES):
        results[shape] = {}
        for size in byte_sizes:
            figures: dict[str, Any] = {"ours": [measure("ours", shape, size) for _ in range(runs)]}
            failed = [run for run in figures["ours"] if "failed" in run]
            if failed:
                raise click.ClickException(f"{shape} at {size // MIB} MiB: {failed[0]['failed']}")
            if stdlib:
                figures["stdlib"] = measure("stdlib", shape, size, limit=True)
            results[shape][str(size)] = figures
            seconds = statistics.median(run["seconds"] for run in figures["ours"])
            console.print(f"{shape} {size // MIB} MiB: {seconds:.2f} s", soft_wrap=True)
    show(results, byte_sizes, console)
    path = write_results("email_parse", {"sizes": byte_sizes, "runs": runs, "results": results})
    console.print(f"results written to {path}", soft_wrap=True)


if __name__ == "__main__":
    main()
