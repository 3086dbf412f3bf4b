"""`archive watch [DIR | s3://bucket/prefix/]`: archive recordings as a telephone system writes
them into a folder, or as a contact centre exports them to a bucket; once, or pass after pass
until stopped."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType

import click

from archive.cli.context import Context, pass_context
from archive.connectors.bucket import BucketWatch
from archive.connectors.folder import FolderWatch
from archive.connectors.use_cases.bucket import watch_bucket
from archive.connectors.use_cases.folder import watch_folder
from archive.connectors.use_cases.recordings import PassReport
from archive.errors import ConfigurationError
from archive.runtime import Runtime
from archive.settings import Settings

Watch = FolderWatch | BucketWatch


def _watches(settings: Settings, source: str | None) -> list[Watch]:
    """What `source` names, or every source the settings name."""
    if source is not None and source.startswith("s3://"):
        return [BucketWatch.of(settings, source)]
    if source is not None:
        return [FolderWatch.of(settings, Path(source))]
    watches: list[Watch] = []
    if settings.watch_dir is not None:
        watches.append(FolderWatch.of(settings))
    if settings.watch_bucket:
        watches.append(BucketWatch.of(settings))
    if not watches:
        raise ConfigurationError(
            "nothing to watch: name a folder or s3://bucket/prefix/, or set ARCHIVE_WATCH_DIR "
            "or ARCHIVE_WATCH_BUCKET"
        )
    return watches


def _pass(runtime: Runtime, watch: Watch) -> PassReport:
    if isinstance(watch, FolderWatch):
        return watch_folder(runtime, watch)
    return watch_bucket(runtime, watch)


def _line(source: str, report: PassReport) -> str:
    line = (
        f"{source}: stored {report.stored}, already archived {report.repeated}, "
        f"deferred {report.deferred}, refused {report.refused}, waiting {report.waiting}"
    )
    return line if report.error is None else f"{line}; {report.error}"


@click.command("watch")
@click.argument("source", required=False)
@click.option("--once", is_flag=True, help="One pass, then exit (status 1 if any failed).")
@click.option(
    "--every",
    type=click.FloatRange(min=1),
    help="Seconds between passes (default ARCHIVE_WATCH_INTERVAL_SECONDS).",
)
@pass_context
def watch_command(ctx: Context, source: str | None, once: bool, every: float | None) -> None:
    """Archive call recordings from a folder a telephone system writes them into (SOURCE a
    folder, default ARCHIVE_WATCH_DIR) or a bucket they are exported to (SOURCE
    s3://bucket/prefix/, default ARCHIVE_WATCH_BUCKET), as docs/connectors.md describes.
    Each recording is stored once, then moved or deleted (a bucket is only read). Passes go
    on until stopped (SIGTERM or Ctrl-C), or one with --once."""
    watches = _watches(ctx.settings, source)
    runtime = ctx.runtime
    interval = every or float(runtime.settings.watch_interval_seconds)
    stopped = threading.Event()

    def stop(signum: int, _frame: FrameType | None) -> None:
        stopped.set()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        while True:
            runtime.refresh_keys()
            reports = [(watch.source, _pass(runtime, watch)) for watch in watches]
            for name, report in reports:
                click.echo(_line(name, report), err=bool(report.error or report.deferred))
                for refused, reason in report.refused_names:
                    click.echo(f"  refused {refused}: {reason}", err=True)
            if once:
                failed = any(r.error or r.deferred or r.refused for _, r in reports)
                raise SystemExit(1 if failed else 0)
            if stopped.wait(interval):
                break
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
