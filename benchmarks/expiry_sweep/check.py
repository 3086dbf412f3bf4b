"""What the sweep left, against what it should have left."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import func, or_, select

from archive.contacts.models import Contact, ContactState, ContentObject
from archive.runtime import Runtime
from benchmarks.expiry_sweep.populate import Population


def in_chunks(ids: Sequence[uuid.UUID], size: int = 900) -> Iterator[Sequence[uuid.UUID]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


_EXCEPTION = re.compile(r"[A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit)\b")


def exception_line(failure: str) -> str:
    """The exception a traceback ends with (not the hint lines some libraries add after it)."""
    lines = failure.strip().splitlines()
    return next((line for line in reversed(lines) if _EXCEPTION.match(line)), lines[-1])


def verify(
    runtime: Runtime,
    population: Population,
    outcomes: Sequence[dict[str, Any]],
    failures: Sequence[str],
) -> dict[str, Any]:
    """What the sweep left, against what it should have left."""
    held = sorted(population.held)
    expected = population.count - len(held)
    held_keys = {key for contact in held for key in population.keys[contact]}
    all_keys = {key for keys in population.keys.values() for key in keys}
    with runtime.session() as session:
        counted = session.execute(select(Contact.state, func.count()).group_by(Contact.state))
        states: Counter[str] = Counter({row[0]: row[1] for row in counted})
        intact: set[uuid.UUID] = set()
        links_kept = 0
        for chunk in in_chunks(held):
            rows = session.execute(
                select(Contact.id, Contact.ticket_id, Contact.customer_id).where(
                    Contact.id.in_(chunk),
                    Contact.state == ContactState.ACTIVE,
                    Contact.wrapped_key.is_not(None),
                    Contact.details_ciphertext.is_not(None),
                )
            )
            for contact_id, ticket_id, customer_id in rows:
                intact.add(contact_id)
                links_kept += population.links[contact_id] == (ticket_id, customer_id)
        stored = session.execute(select(ContentObject.storage_key, ContentObject.contact_id))
        rows_left = {row[0]: row[1] for row in stored}
        unclean_tombstones = session.scalar(
            select(func.count())
            .select_from(Contact)
            .where(
                Contact.state == ContactState.DELETED,
                or_(
                    Contact.wrapped_key.is_not(None),
                    Contact.details_ciphertext.is_not(None),
                    Contact.customer_id.is_not(None),
                    Contact.ticket_id.is_not(None),
                    Contact.external_key.is_not(None),
                    Contact.agent.is_not(None),
                ),
            )
        )
    present = {info.key for info in runtime.store.list()}
    lost = {
        contact
        for contact in held
        if contact not in intact
        or any(key not in present or key not in rows_left for key in population.keys[contact])
    }
    left_behind = (present | set(rows_left)) & (all_keys - held_keys)
    reported = sum(int(outcome["deleted"]) for outcome in outcomes)
    checks = {
        "held lost": len(lost),
        "held whose ticket or customer went": len(held) - links_kept,
        "unheld not deleted": expected - states[ContactState.DELETED],
        "left deleting": states[ContactState.DELETING],
        "objects left of deleted contacts": len(left_behind),
        "tombstones with personal data or keys": int(unclean_tombstones or 0),
        "deleted reported": reported,
        "deleted expected": expected,
        "worker errors": [outcome["error"] for outcome in outcomes if outcome["error"]],
        # The last line of each failed worker's traceback: the exception.
        "workers failed": [exception_line(failure) for failure in failures],
    }
    checks["passed"] = (
        not lost
        and links_kept == len(held)
        and states[ContactState.DELETED] == expected
        and states[ContactState.ACTIVE] == len(held)
        and not states[ContactState.DELETING]
        and not left_behind
        and not unclean_tombstones
        and reported == expected
        and not checks["worker errors"]
        and not failures
    )
    return checks
