"""One expiry sweep in a process of its own, started at an agreed moment, for the tests that run
several at once on one database.

    python sweeping.py NOW BATCH START

The runtime is built from the ARCHIVE_* environment variables; NOW (ISO 8601) is the sweep's
clock, BATCH its batch size, START the wall-clock time (seconds since the epoch) to begin at,
so that processes started one after the other sweep together. Prints the report as JSON.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime

from archive.clock import FixedClock
from archive.lifecycle.sweep import sweep
from archive.runtime import build_runtime
from archive.settings import Settings


def main(now: datetime, batch: int, start: float) -> int:
    runtime = build_runtime(Settings.from_env(), clock=FixedClock(now))
    runtime.store.check()
    time.sleep(max(0.0, start - time.time()))
    report = sweep(runtime, actor="expiry", batch_size=batch)
    print(
        json.dumps(
            {
                "deleted": [str(contact_id) for contact_id in report.deleted_ids],
                "kept": [str(kept.contact_id) for kept in report.kept],
                "error": report.error,
            }
        )
    )
    runtime.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(datetime.fromisoformat(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])))
