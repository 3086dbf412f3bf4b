"""Checking the audit log the run wrote, with the archive's own commands."""

from __future__ import annotations

import os
import subprocess
import time
from typing import Any

from benchmarks._server import archive_command
from benchmarks.audit_scaling.population import Archive


def verify_trail(archive: Archive) -> dict[str, Any]:
    """`archive audit verify` on the trail the run wrote: concurrent appends must still make
    one log. Where the archive seals records into its log in a job of their own (`archive
    audit seal`), everything the run appended is sealed first, and timed."""
    found: dict[str, Any] = {}
    if audit_command(archive, "seal", "--help")["exit_code"] == 0:
        found["seal"] = audit_command(archive, "seal")
    found["verify"] = audit_command(archive, "verify")
    return found


def audit_command(archive: Archive, *arguments: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")}
    env.update(archive.settings.to_env())
    started = time.perf_counter()
    done = subprocess.run(
        [*archive_command(), "audit", *arguments],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    return {
        "exit_code": done.returncode,
        "output": (done.stdout + done.stderr).strip(),
        "seconds": time.perf_counter() - started,
    }
