"""What the connectors' API returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from archive.connectors.activity import SourceReport


@dataclass(frozen=True)
class HourOut:
    hour: datetime
    messages: int


@dataclass(frozen=True)
class ConnectorOut:
    connector: str
    """smtp, imap, folder or bucket."""
    source: str
    """The listener, mailbox, folder or bucket prefix, as configured."""
    state: str
    """flowing: a message in the last 24 hours and no failure since; failing: the last
    message failed, or the source itself could not be read since the last message and pass;
    quiet: nothing in the last 24 hours."""
    last_message_at: datetime | None
    last_error_at: datetime | None
    last_error: str | None
    failures_in_a_row: int
    backlog: int | None
    """What waited at the source at the last pass (None: the connector cannot tell, as for
    SMTP, whose backlog waits in the sending server's queue)."""
    backlog_at: datetime | None
    last_pass_at: datetime | None
    stored: int
    repeated: int
    deferred: int
    refused: int
    """The last 24 hours' messages by outcome."""
    hours: list[HourOut]
    """Messages stored or found stored in each of the last 24 hours, oldest first."""


def state_of(source: SourceReport) -> str:
    if source.failures_in_a_row or _unreachable(source):
        return "failing"
    if not any(count for _, count in source.hours):
        return "quiet"
    return "flowing"


def _unreachable(source: SourceReport) -> bool:
    """The last thing the source reported is an error of its own (it could not be reached,
    logged in to or read), newer than its last message and its last finished pass."""
    error = source.last_error_at
    if error is None:
        return False
    later = [moment for moment in (source.last_message_at, source.last_run_at) if moment]
    return all(error > moment for moment in later)


def connector_out(source: SourceReport) -> ConnectorOut:
    return ConnectorOut(
        connector=source.kind,
        source=source.source,
        state=state_of(source),
        last_message_at=source.last_message_at,
        last_error_at=source.last_error_at,
        last_error=source.last_error,
        failures_in_a_row=source.failures_in_a_row,
        backlog=source.backlog,
        backlog_at=source.backlog_at,
        last_pass_at=source.last_run_at,
        stored=source.stored,
        repeated=source.repeated,
        deferred=source.deferred,
        refused=source.refused,
        hours=[HourOut(hour=hour, messages=count) for hour, count in source.hours],
    )
