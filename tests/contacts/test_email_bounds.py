"""Bounded work for every message: ingest and view of 25 MiB of the worst shapes, in a child.

The child process builds an embedded archive (SQLite and a local store), makes each message,
then measures one ingest and one view of it: the time, and the peak of its resident memory
above what it held just before (the message itself included), read from /proc after the
kernel's peak counter was reset.
"""

from __future__ import annotations

import gc
import re
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from archive.contacts.ingest import Envelope, IngestService
from archive.contacts.schemas import email_out
from archive.contacts.service import ContactService
from archive.crypto.keyring import generate_key_material
from archive.db.migrate import upgrade
from archive.runtime import Runtime, build_runtime
from archive.settings import Settings
from archive.testing.pathological import MIB, NAMED_IN_THE_ISSUE, SHAPES

SIZE = 25 * MIB
MOST_GROWTH_MIB = 64
# Ingest and view of one message; each takes about a second on a shared two-core machine.
MOST_SECONDS = 10.0


def _status(field: str) -> int:
    """A memory figure of this process from /proc, in KiB."""
    found = re.search(rf"^{field}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.M)
    assert found is not None
    return int(found.group(1))


def _reset_peak() -> None:
    # Writing 5 resets VmHWM to the current RSS (Linux 4.0 and later).
    Path("/proc/self/clear_refs").write_text("5")


def ingest_and_view(name: str, size: int) -> dict[str, Any]:
    """Run in a child of its own, so what an earlier message left in the heap counts nowhere."""
    with tempfile.TemporaryDirectory() as scratch:
        settings = Settings(data_dir=Path(scratch) / "data")
        runtime = build_runtime(settings, keys=generate_key_material())
        upgrade(runtime.engine)
        try:
            _ingest_and_view(runtime, SHAPES["parts"](MIB))  # loads what a first read loads
            raw = SHAPES[name](size)
            gc.collect()
            _reset_peak()
            before = _status("VmRSS")
            figures = _ingest_and_view(runtime, raw)
            figures["growth_mib"] = (_status("VmHWM") - before) / 1024
        finally:
            runtime.close()
    return {"shape": name, "size": len(raw), **figures}


def _ingest_and_view(runtime: Runtime, raw: bytes) -> dict[str, Any]:
    started = time.perf_counter()
    with runtime.session() as session:
        contact_id = IngestService(session, runtime).ingest_email(Envelope(), raw).contact.id
    ingested = time.perf_counter()
    with runtime.session() as session:
        service = ContactService(session, runtime)
        contact = service.get(contact_id)
        shown = email_out(contact, service.email(contact))
    return {
        "ingest_seconds": ingested - started,
        "view_seconds": time.perf_counter() - ingested,
        "too_complex": shown.too_complex,
        "sender": shown.sender,
    }


def test_ingest_and_view_are_bounded_for_25_mib_of_any_shape() -> None:
    spawn = get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=spawn, max_tasks_per_child=1) as children:
        runs = [children.submit(ingest_and_view, name, SIZE) for name in NAMED_IN_THE_ISSUE]
        results = [run.result(timeout=120) for run in runs]
    for result in results:
        assert result["size"] > 24 * MIB, result
        assert result["growth_mib"] < MOST_GROWTH_MIB, result
        assert result["ingest_seconds"] < MOST_SECONDS, result
        assert result["view_seconds"] < MOST_SECONDS, result
        # The customer is still found in what could be read.
        assert result["sender"] == {"name": "Aino Virtanen", "email": "aino.virtanen@example.fi"}
    complex_ones = {r["shape"] for r in results if r["too_complex"]}
    assert complex_ones == {"parts", "nesting"}
