"""One pass over the IMAP mailboxes ARCHIVE_IMAP_* name: every message that arrived since the
last pass is archived as it is on the server, and then kept, flagged or moved there.

Nothing is lost and nothing is stored twice, whatever stops a pass:

- A mailbox's position (its UIDVALIDITY and the last UID dealt with) is saved only after the
  messages it covers are committed, batch by batch; a pass that dies in a batch reads that
  batch again, and what it had stored is found stored (counted `repeated`), never stored anew.
- Messages are flagged or moved only once stored, before the position passes them: a pass
  that dies in between flags or moves them the next time (a moved message is not read again).
- A new UIDVALIDITY (the mailbox was made again, or the server lost its UIDs) reads the whole
  mailbox again; the messages stored before are found stored by their natural key.
- A message the archive will never take (not an e-mail, too large) is counted `refused`,
  marked `$ArchiveRefused` unless the mailbox is only read, and passed. One that cannot be
  stored now (the store, the keys or the database not answering) stops the mailbox there,
  counted `deferred`: the next pass starts again with it.
- One pass at a time reads a mailbox: a second worker finds it taken and leaves it.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import structlog

from archive.audit import Actor
from archive.connectors import imap
from archive.connectors.activity import (
    Kind,
    Outcome,
    Tally,
    read_position,
    record_error,
    record_pass,
    save_position,
)
from archive.connectors.imap import GONE, Account, Connection, MailboxUnavailable
from archive.connectors.outcomes import UNAVAILABLE_ERRORS, outcome_of
from archive.contacts import use_cases as contacts
from archive.contacts.ingest import Envelope
from archive.db.locks import named_lock
from archive.errors import InvalidInput, PayloadTooLarge
from archive.runtime import Runtime

log = structlog.get_logger(__name__)


@dataclass
class MailboxPass:
    """What one pass did in one mailbox."""

    source: str
    counts: dict[Outcome, int] = field(default_factory=lambda: dict.fromkeys(Outcome, 0))
    backlog: int = 0
    """Messages left for a later pass (after a deferral or an error)."""
    uidvalidity_changed: bool = False
    busy: bool = False
    """Another pass was reading the mailbox: this one left it."""
    error: str | None = None
    """Why the mailbox could not be read (the server, the login, the connection)."""


def imap_actor(account: Account) -> Actor:
    """Who stores a mailbox's messages, as the audit trail names it."""
    return Actor(name=f"imap:{account.name}")


def read_mailboxes(runtime: Runtime) -> list[MailboxPass]:
    """One pass over every configured mailbox; [] when IMAP is off."""
    settings = runtime.settings
    account = Account.of(settings)
    if account is None:
        return []
    runtime.refresh_keys()
    sources = {mailbox: account.source(mailbox) for mailbox in settings.imap_mailboxes}
    try:
        connection = Connection(account)
    except MailboxUnavailable as error:
        log.warning("imap.unavailable", account=account.name, error=str(error))
        for source in sources.values():
            record_error(runtime, Kind.IMAP, source, str(error))
        return [MailboxPass(source, error=str(error)) for source in sources.values()]
    passes = []
    with connection:
        for mailbox, source in sources.items():
            done = MailboxPass(source)
            passes.append(done)
            try:
                with _mailbox_lock(runtime, source) as held:
                    if held:
                        _read(runtime, connection, account, mailbox, done)
                    else:
                        done.busy = True
            except MailboxUnavailable as error:
                done.error = str(error)
                log.warning("imap.unavailable", source=source, error=done.error)
                record_error(runtime, Kind.IMAP, source, done.error)
                if not connection.alive():
                    break  # the other mailboxes wait for the next pass
            except UNAVAILABLE_ERRORS as error:
                # The database or the store went away between messages: the pass stops, and
                # the next one starts where the saved positions say.
                outcome_of(error)
                done.error = f"the archive cannot store now ({type(error).__name__})"
                record_error(runtime, Kind.IMAP, source, done.error)
                break
    return passes


def _read(
    runtime: Runtime, connection: Connection, account: Account, mailbox: str, done: MailboxPass
) -> None:
    settings = runtime.settings
    source = done.source
    # Only read unless messages are flagged or moved: the server then keeps them \Recent.
    uidvalidity = connection.select(mailbox, readonly=settings.imap_after == "keep")
    if settings.imap_after == "flag" and not connection.keywords:
        # Found now, before anything is stored: flagging would fail after every batch.
        raise MailboxUnavailable(
            f"{mailbox} takes no keywords, so messages cannot be flagged; "
            "use ARCHIVE_IMAP_AFTER=move or keep"
        )
    with runtime.session() as session:
        position = read_position(session, Kind.IMAP, source)
    last = 0
    if position is not None:
        if position.get("uidvalidity") == uidvalidity:
            last = int(position["uid"])
        else:
            done.uidvalidity_changed = True
            log.warning(
                "imap.uidvalidity_changed",
                source=source,
                was=position.get("uidvalidity"),
                now=uidvalidity,
            )
    if settings.imap_after == "move":
        connection.ensure(settings.imap_move_to)
    # Listed once: what arrives during the pass waits for the next, so a pass always ends.
    waiting = connection.uids_after(last)
    actor = imap_actor(account)
    tally = Tally(runtime)
    last_through = last
    for start in range(0, len(waiting), settings.imap_batch):
        batch = waiting[start : start + settings.imap_batch]
        try:
            through, archived, refused, stopped = _store_batch(
                runtime, tally, connection, actor, source, batch
            )
        finally:
            # The batch's counts in one transaction, whatever stopped it.
            tally.flush()
        for outcome in stopped or ():
            done.counts[outcome] += 1
        _after(runtime, connection, archived, refused)
        if through is not None:
            last_through = through
            with runtime.session() as session:
                position = {"uidvalidity": uidvalidity, "uid": through}
                save_position(session, Kind.IMAP, source, position, runtime.clock.now())
                session.commit()
        for outcome, count in _outcomes_of(archived, refused).items():
            done.counts[outcome] += count
        if stopped:
            break
    done.backlog = len(waiting) - bisect.bisect_right(waiting, last_through)
    record_pass(runtime, Kind.IMAP, source, done.backlog)


NO_BODY = "the server answered without the message's bytes (BODY[] was NIL or missing)"


def _store_batch(
    runtime: Runtime,
    tally: Tally,
    connection: Connection,
    actor: Actor,
    source: str,
    batch: list[int],
) -> tuple[int | None, list[tuple[int, bool]], list[int], list[Outcome]]:
    """Store a batch's messages in UID order; (the last UID dealt with, the archived ones with
    whether each was new, the refused ones, [DEFERRED] if a message stopped the batch)."""
    limit = runtime.settings.max_message_bytes
    sizes = connection.sizes(batch)
    # Too large for the archive: refused without downloading it.
    fetch = {uid: size for uid, size in sizes.items() if size <= limit}
    bodies = connection.bodies(fetch)
    through: int | None = None
    archived: list[tuple[int, bool]] = []
    refused: list[int] = []
    for uid in batch:
        through_before, through = through, uid
        if uid not in sizes:
            continue  # deleted since it was listed: nothing to archive
        if uid not in fetch:
            _refuse(tally, source, uid, refused, PayloadTooLarge("larger than the limit"))
            continue
        fetched, raw = next(bodies)
        assert fetched == uid, "bodies come in UID order"
        if raw is GONE:
            log.info("imap.gone", source=source, uid=uid)  # deleted by someone meanwhile
            continue
        if raw is None:
            # Listed, sized, and answered without its bytes: counted and passed as refused
            # (marked where the mailbox takes keywords), never skipped unseen.
            _refuse(tally, source, uid, refused, InvalidInput(NO_BODY))
            continue
        try:
            created = _store(runtime, actor, raw)
        except Exception as error:
            outcome = outcome_of(error)
            if outcome is Outcome.DEFERRED:
                tally.count(Kind.IMAP, source, outcome, _why(error))
                return through_before, archived, refused, [outcome]
            _refuse(tally, source, uid, refused, error)
        else:
            archived.append((uid, created))
            tally.count(Kind.IMAP, source, Outcome.STORED if created else Outcome.REPEATED)
    return through, archived, refused, []


def _store(runtime: Runtime, actor: Actor, raw: bytes) -> bool:
    with runtime.session() as session:
        result = contacts.ingest_email(session, runtime, actor, Envelope(source="imap"), raw)
        return result.created


def _refuse(tally: Tally, source: str, uid: int, refused: list[int], error: Exception) -> None:
    refused.append(uid)
    log.warning("imap.refused", source=source, uid=uid, error_type=type(error).__name__)
    tally.count(Kind.IMAP, source, Outcome.REFUSED, _why(error))


def _why(error: Exception) -> str:
    detail = getattr(error, "public_detail", None) or type(error).__name__
    return f"{detail} ({type(error).__name__})"


def _after(
    runtime: Runtime, connection: Connection, archived: list[tuple[int, bool]], refused: list[int]
) -> None:
    """Flag or move what was archived, and mark what was refused, as ARCHIVE_IMAP_AFTER says."""
    settings = runtime.settings
    if settings.imap_after == "keep":
        return
    if connection.keywords:
        connection.mark(refused, imap.REFUSED)
    uids = [uid for uid, _ in archived]
    if settings.imap_after == "flag":
        connection.mark(uids, imap.ARCHIVED)
    else:
        connection.move(uids, settings.imap_move_to)


def _outcomes_of(archived: list[tuple[int, bool]], refused: list[int]) -> dict[Outcome, int]:
    created = sum(1 for _, new in archived if new)
    return {
        Outcome.STORED: created,
        Outcome.REPEATED: len(archived) - created,
        Outcome.REFUSED: len(refused),
    }


@contextmanager
def _mailbox_lock(runtime: Runtime, source: str) -> Iterator[bool]:
    """Whether this pass may read the mailbox now; never waits. A mailbox is never left
    taken by a killed process (`archive.db.locks`)."""
    with named_lock(runtime.engine, f"archive.connectors.imap:{source}", wait=False) as held:
        yield held
