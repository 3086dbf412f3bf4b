"""The same load driven by wrk, a load generator written in C, where `--load wrk` asks for it.

The Python clients of `load.py` spend about a millisecond of CPU on each request. On a
machine whose few cores the server processes share with PostgreSQL and the clients, that CPU
is taken from the servers, and the more they serve the more it takes: it bounds the scaling
being measured. wrk spends a few microseconds. It is Debian's `wrk` package.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from benchmarks.audit_scaling.population import Customer
from benchmarks.audit_scaling.timed_app import WARMUP_HEADER

# wrk calls request() for every request and done() once at the end; the tables and flags
# are put in front of it. Each request is one of the two reads of load.py, for a customer
# and a token chosen at random, as there.
SCRIPT = """
math.randomseed(os.time())
request = function()
  local path = paths[math.random(#paths)]
  local headers = { ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)] }
  if close then headers["Connection"] = "close" end
  if warmup then headers[warmup_header] = "1" end
  return wrk.format("GET", path, headers)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write("RESULT " .. string.format(
    '{"requests": %d, "microseconds": %d, "status": %d, "connect": %d, "read": %d, ' ..
    '"write": %d, "timeout": %d, "p50_us": %d, "p99_us": %d}',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99)) .. "\\n")
end
"""


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("--load wrk needs wrk on the PATH (Debian: apt-get install wrk)")
    return found


def run_wrk(
    base_url: str,
    tokens: Sequence[str],
    customers: Sequence[Customer],
    *,
    clients: int,
    seconds: float,
    keep_alive: bool,
    warmup: bool = False,
) -> tuple[dict[str, Any], float]:
    """Load `base_url` with `clients` connections for `seconds`: the summary `load.Outcome`
    gives, and the CPU seconds wrk itself spent."""
    paths = [
        path
        for customer in customers
        for path in (
            f"/api/v1/customers?email={quote(customer.email, safe='')}",
            f"/api/v1/customers/{customer.id}/contacts",
        )
    ]
    with tempfile.TemporaryDirectory(prefix="archive-wrk-") as work:
        script = Path(work) / "load.lua"
        script.write_text(
            f"paths = {lua_list(paths)}\n"
            f"tokens = {lua_list(tokens)}\n"
            f"close = {'false' if keep_alive else 'true'}\n"
            f"warmup = {'true' if warmup else 'false'}\n"
            f'warmup_header = "{WARMUP_HEADER.decode()}"\n' + SCRIPT
        )
        command = [
            wrk_binary(),
            "--threads", "1",
            "--connections", str(clients),
            "--duration", f"{max(1, round(seconds))}s",
            "--timeout", "60s",
            "--script", str(script),
            base_url,
        ]  # fmt: skip
        output, errors = Path(work) / "out", Path(work) / "err"
        with output.open("wb") as out, errors.open("wb") as err:
            process = subprocess.Popen(command, stdout=out, stderr=err)
            # wait4, not wait: the rusage of wrk alone, what it took of the shared cores.
            _pid, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        printed, complaint = output.read_text(), errors.read_text()
    if process.returncode != 0:
        raise RuntimeError(f"wrk failed ({process.returncode}): {complaint[-500:]}")
    lines = [line for line in printed.splitlines() if line.startswith("RESULT ")]
    if not lines:
        raise RuntimeError(f"wrk printed no result: {printed[-500:]}")
    found = json.loads(lines[-1].removeprefix("RESULT "))
    return summary(found), usage.ru_utime + usage.ru_stime


def summary(found: dict[str, int]) -> dict[str, Any]:
    """wrk's figures in the shape of `load.Outcome.summary`."""
    wall = found["microseconds"] / 1e6
    errors = Counter(
        {kind: found[kind] for kind in ("status", "connect", "read", "write", "timeout")}
    )
    # wrk counts answers in "requests", an answer that is not 2xx or 3xx also in "status";
    # a request lost to the connection is only in its own count.
    succeeded = found["requests"] - found["status"]
    lost = found["connect"] + found["read"] + found["write"] + found["timeout"]
    return {
        "seconds": wall,
        "requests": found["requests"] + lost,
        "succeeded": succeeded,
        "requests_per_second": succeeded / wall if wall else 0.0,
        "p50_ms": found["p50_us"] / 1000,
        "p99_ms": found["p99_us"] / 1000,
        "by_read": {},
        "errors": {kind: count for kind, count in errors.items() if count},
        "error_samples": [],
    }


def lua_list(values: Sequence[str]) -> str:
    """A Lua table of strings. Paths and tokens hold no quote or backslash; checked anyway."""
    for value in values:
        if '"' in value or "\\" in value or "\n" in value:
            raise ValueError(f"not a plain string for Lua: {value!r}")
    return "{" + ", ".join(f'"{value}"' for value in values) + "}"
