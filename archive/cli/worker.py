"""`archive worker health` and `archive worker beat-health`: healthchecks for Celery's processes.

A worker is healthy when it answers a ping through the broker, by its own node name: a worker
whose process lives but which lost its broker, or hangs, does not answer. Beat is healthy when
its heartbeat (`archive.heartbeat`) is younger than a few of its shortest periods.
"""

from __future__ import annotations

import socket
import sys

import click

from archive.cli.context import Context, pass_context
from archive.heartbeat import DEFAULT_SCHEDULE, age
from archive.jobs import PERIODIC

# Celery's default node name is celery@<host name>, which a container's healthcheck shares.
DEFAULT_NODE = f"celery@{socket.gethostname()}"
# Beat looks at its schedule at least this often whatever the periods (Celery's default).
BEAT_MAX_LOOP_SECONDS = 300.0


@click.group("worker")
def worker_group() -> None:
    """Healthchecks of the Celery worker and beat (for a container's HEALTHCHECK)."""


@worker_group.command("health")
@click.option(
    "--node", default=DEFAULT_NODE, show_default=True, help="The worker's node name (-n)."
)
@click.option("--timeout", default=5.0, show_default=True, help="Seconds to wait for the answer.")
@pass_context
def health_command(context: Context, node: str, timeout: float) -> None:
    """Ping the worker NODE through the broker: exit 0 when it answers, 1 when not."""
    from celery import Celery

    url = context.settings.broker_url
    if not url:
        click.echo("no broker is configured (ARCHIVE_BROKER_URL): there is no worker", err=True)
        sys.exit(1)
    celery = Celery("archive-health", broker=url, set_as_current=False)
    try:
        replies = celery.control.ping(destination=[node], timeout=timeout) or []
    except Exception as error:  # the broker itself is down or refuses us
        click.echo(f"{node}: the broker cannot be reached ({type(error).__name__})", err=True)
        sys.exit(1)
    finally:
        celery.close()
    if any(node in reply for reply in replies):
        click.echo(f"{node}: ok")
        return
    click.echo(f"{node}: no answer within {timeout:g} s", err=True)
    sys.exit(1)


@worker_group.command("beat-health")
@click.option(
    "--schedule",
    default=DEFAULT_SCHEDULE,
    show_default=True,
    help="Beat's schedule file (celery beat -s); the heartbeat is beside it.",
)
@click.option(
    "--periods",
    default=3,
    show_default=True,
    type=click.IntRange(min=1),
    help="How many of beat's shortest periods the heartbeat may be old.",
)
@pass_context
def beat_health_command(context: Context, schedule: str, periods: int) -> None:
    """Exit 0 when beat ticked lately, 1 when its heartbeat is missing or too old."""
    shortest = min(
        [job.every(context.settings) for job in PERIODIC] + [BEAT_MAX_LOOP_SECONDS],
    )
    limit = periods * shortest
    found = age(schedule)
    if found is None:
        click.echo(f"beat has no heartbeat beside {schedule}: it has not ticked", err=True)
        sys.exit(1)
    if found > limit:
        click.echo(f"beat last ticked {found:.0f} s ago (more than {limit:g} s)", err=True)
        sys.exit(1)
    click.echo(f"beat: ok (ticked {found:.0f} s ago)")
