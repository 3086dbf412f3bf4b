"""Every metric a process of the archive counts, and the one-line calls that count them.

Labels name kinds, never things: a route's template, a channel, an operation, an outcome. No
identifier, path, address or content ever becomes a label value, so a scrape discloses nothing
and the number of series stays fixed however much is archived.

Every family here has at least one label. A labelled series is created when it is first
counted, after `multiprocess.use_directory` may have turned multiprocess mode on in a process
that imported this module earlier (`archive serve`, which decides only then whether it
supervises several processes).

What the database knows (the expiry backlog, open requests, the audit log's unsealed records)
is not counted here but asked for at scrape time: `archive.scrape`.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import Counter, Histogram

# From a millisecond to a long download or upload of a recording.
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# From an idle sweep to one working through months of backlog.
SWEEP_BUCKETS = (0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 4 * 3600.0)

REQUEST_DURATION = Histogram(
    "archive_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by route template, method and "
    "status class.",
    ["route", "method", "status"],
    buckets=REQUEST_BUCKETS,
)
INGESTED_CONTACTS = Counter(
    "archive_ingest_contacts",
    "Contacts stored by ingest and imports (committed; a repeat of a stored one is not counted).",
    ["channel"],
)
INGESTED_BYTES = Counter(
    "archive_ingest_bytes",
    "Bytes of the contacts stored by ingest and imports, as received (before encryption).",
    ["channel"],
)
SWEEP_RUNS = Counter(
    "archive_sweep_runs",
    "Expiry sweeps run: `ok`, or `stopped` when the store failed and the next run goes on.",
    ["outcome"],
)
SWEEP_DURATION = Histogram(
    "archive_sweep_duration_seconds",
    "Wall time of an expiry sweep, by outcome.",
    ["outcome"],
    buckets=SWEEP_BUCKETS,
)
SWEEP_CONTACTS = Counter(
    "archive_sweep_contacts",
    "Contacts the sweep found past their end: `deleted`, or `kept` because a hold keeps them.",
    ["channel", "outcome"],
)
SWEEP_HOLDS = Counter(
    "archive_sweep_holds",
    "Holds the sweep ended because their time ran out (`lapsed`).",
    ["outcome"],
)
STORE_ERRORS = Counter(
    "archive_store_errors",
    "Failures of the object store, by operation (store, read, stat, delete, list, ...).",
    ["operation"],
)
DATABASE_ERRORS = Counter(
    "archive_database_errors",
    "Failed database statements, by kind of statement (select, insert, update, delete, other).",
    ["operation"],
)
INTEGRITY_CHECKS = Counter(
    "archive_integrity_checks",
    "Integrity checks run: `ok`, or `failed` when one left a problem (see "
    "archive_integrity_findings_total).",
    ["outcome"],
)
INTEGRITY_FINDINGS = Counter(
    "archive_integrity_findings",
    "Problems integrity checks found, by kind: orphan, missing, size-mismatch, "
    "digest-mismatch, unreadable.",
    ["kind"],
)
CONNECTOR_MESSAGES = Counter(
    "archive_connector_messages",
    "Messages the connectors handled, by connector (smtp, imap, folder, bucket) and outcome: "
    "stored, repeated (found stored already), deferred (tried again later), refused.",
    ["connector", "outcome"],
)

FAMILIES = (
    REQUEST_DURATION,
    INGESTED_CONTACTS,
    INGESTED_BYTES,
    SWEEP_RUNS,
    SWEEP_DURATION,
    SWEEP_CONTACTS,
    SWEEP_HOLDS,
    STORE_ERRORS,
    DATABASE_ERRORS,
    INTEGRITY_CHECKS,
    INTEGRITY_FINDINGS,
    CONNECTOR_MESSAGES,
)

# Statement kinds a database error is counted under; anything else is `other`.
_STATEMENTS = ("select", "insert", "update", "delete")
# Words of the store's phrases that say nothing of the operation.
_FILLERS = frozenset({"the", "in", "into", "from", "of"})


def known_series() -> None:
    """Create the series whose first count an alert must see: a counter that appears with its
    first increase shows none to `increase()`. Called once a process knows where its values
    go (after `multiprocess.use_directory`)."""
    for outcome in ("ok", "stopped"):
        SWEEP_RUNS.labels(outcome)
    SWEEP_HOLDS.labels("lapsed")
    for outcome in ("ok", "failed"):
        INTEGRITY_CHECKS.labels(outcome)


def ingested(channel: str, size: int) -> None:
    """A contact of `channel` and `size` bytes was committed."""
    INGESTED_CONTACTS.labels(channel).inc()
    INGESTED_BYTES.labels(channel).inc(size)


def swept(
    seconds: float,
    *,
    stopped: bool,
    deleted: Iterable[tuple[str, int]],
    kept: Iterable[str],
    lapsed: int,
) -> None:
    """A sweep ended: its duration, the contacts deleted per channel, the channel of each kept
    one, and the holds that lapsed."""
    outcome = "stopped" if stopped else "ok"
    SWEEP_RUNS.labels(outcome).inc()
    SWEEP_DURATION.labels(outcome).observe(seconds)
    for channel, count in deleted:
        SWEEP_CONTACTS.labels(channel, "deleted").inc(count)
    for channel in kept:
        SWEEP_CONTACTS.labels(channel, "kept").inc()
    SWEEP_HOLDS.labels("lapsed").inc(lapsed)


def store_failed(action: str) -> None:
    """The object store failed at `action`, a fixed phrase of the store's code ("read",
    "delete objects from"), never a key: counted as `read`, `delete_objects`."""
    words = [word for word in action.lower().split() if word not in _FILLERS]
    STORE_ERRORS.labels("_".join(words) or "other").inc()


def database_failed(statement: str | None) -> None:
    """A statement failed; counted under its first keyword, so nothing of it is kept."""
    words = (statement or "").split(None, 1)
    kind = words[0].lower() if words else ""
    DATABASE_ERRORS.labels(kind if kind in _STATEMENTS else "other").inc()


def integrity_checked(ok: bool, findings: Iterable[str]) -> None:
    """An integrity check ended; `findings` is the kind of each problem it found."""
    INTEGRITY_CHECKS.labels("ok" if ok else "failed").inc()
    for kind in findings:
        INTEGRITY_FINDINGS.labels(kind).inc()
