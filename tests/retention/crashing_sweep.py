"""One expiry sweep that stops dead at a chosen point, for the crash tests to kill.

    python crashing_sweep.py POINT MARKER NOW BATCH

The runtime is built from the ARCHIVE_* environment variables, as any archive process builds
it; NOW (ISO 8601) is the sweep's clock and BATCH its batch size. POINT is where it stops:

- `mid-claim`: inside the first claim transaction, its contacts locked and marked deleting
  with their keys destroyed, just before the commit;
- `after-claim`: the first claim committed, nothing removed from the store yet;
- `after-store-delete`: the first batch's objects removed from the store, the transaction that
  finishes them not begun.

There it writes MARKER and sleeps until it is killed (exit 4 if nobody does within the limit).
A sweep that never reaches POINT exits 3.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

import archive.lifecycle.sweep as sweep_module
from archive.clock import FixedClock
from archive.holds import coverage
from archive.runtime import build_runtime
from archive.settings import Settings

POINTS = ("mid-claim", "after-claim", "after-store-delete")
NOBODY_CAME = 300  # seconds


def main(point: str, marker: Path, now: datetime, batch: int) -> int:
    if point not in POINTS:
        print(f"POINT: one of {', '.join(POINTS)}", file=sys.stderr)
        return 2
    runtime = build_runtime(Settings.from_env(), clock=FixedClock(now))

    def stop_here() -> None:
        marker.write_text(point, encoding="utf-8")
        time.sleep(NOBODY_CAME)
        sys.exit(4)

    if point == "mid-claim":
        claiming = False
        real_keeping = coverage.keeping

        def keeping(*args: Any, **kwargs: Any) -> Any:
            nonlocal claiming
            claiming = True
            return real_keeping(*args, **kwargs)

        def before_commit(_session: Session) -> None:
            if claiming:
                stop_here()

        setattr(sweep_module, "keeping", keeping)  # noqa: B010
        event.listen(runtime.sessions, "before_commit", before_commit)
    else:
        real_delete = runtime.store.delete_many

        def delete_many(keys: Iterable[str]) -> None:
            if point == "after-claim":
                stop_here()
            real_delete(keys)
            stop_here()

        setattr(runtime.store, "delete_many", delete_many)  # noqa: B010

    report = sweep_module.sweep(runtime, actor="expiry", batch_size=batch)
    print(f"the sweep finished without reaching {point}: {report}", file=sys.stderr)
    return 3


if __name__ == "__main__":
    point, marker, now, batch = sys.argv[1:]
    sys.exit(main(point, Path(marker), datetime.fromisoformat(now), int(batch)))
