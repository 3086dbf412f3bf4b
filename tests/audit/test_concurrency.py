"""Many writers appending at once, with the sequencer sealing as they go, make one tree."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from archive.audit import Actor, AuditAction, AuditRecord, verify
from archive.audit.sequencer import seal
from archive.audit.service import AuditLog
from archive.runtime import Runtime
from archive.testing.backends import Backend

from . import audit_runtime_for

# PostgreSQL serves many writers at once; SQLite queues them behind its single write lock.
WRITERS = {"postgresql": (8, 50), "sqlite": (4, 25)}


@pytest.fixture
def audit_runtime(request: pytest.FixtureRequest, backend: Backend) -> Runtime:
    return audit_runtime_for(request, backend.database)


def _writer(runtime: Runtime, name: str, appends: int, start: threading.Barrier) -> None:
    start.wait()
    for number in range(appends):
        with runtime.session() as session:
            # A request reads before it records what it did; the append reads nothing more.
            session.scalar(select(func.max(AuditRecord.id)))
            AuditLog(session, runtime).record(
                Actor(name=name, role="agent"),
                AuditAction.CONTACT_METADATA_READ,
                target_ids=[f"contact-{number}"],
            )
            session.commit()


def test_concurrent_writers_make_one_tree(audit_runtime: Runtime, backend: Backend) -> None:
    threads, appends = WRITERS[backend.database]
    start = threading.Barrier(threads + 1)
    errors: list[BaseException] = []
    done = threading.Event()

    def run(name: str) -> None:
        try:
            _writer(audit_runtime, name, appends, start)
        except BaseException as error:
            errors.append(error)
            start.abort()

    def sequencer() -> None:
        # Seals while the writers append, as the schedule would every few seconds.
        try:
            start.wait()
            while not done.is_set():
                seal(audit_runtime)
        except BaseException as error:
            errors.append(error)

    workers = [threading.Thread(target=run, args=(f"writer{n}",)) for n in range(threads)]
    sealing = threading.Thread(target=sequencer)
    for thread in [*workers, sealing]:
        thread.start()
    for worker in workers:
        worker.join()
    done.set()
    sealing.join()
    assert errors == []
    assert seal(audit_runtime) is not None

    total = threads * appends
    with audit_runtime.session() as session:
        places = list(
            session.scalars(select(AuditRecord.leaf_index).order_by(AuditRecord.leaf_index))
        )
        rows = session.execute(select(AuditRecord.actor, func.count()).group_by(AuditRecord.actor))
        per_writer = dict(rows.all())
    assert places == list(range(total))  # every record sealed, each at its own leaf
    assert per_writer == {f"writer{n}": appends for n in range(threads)}
    report = verify(audit_runtime)
    assert report.ok, report.summary()
    assert (report.sealed, report.witness_head) == (total, total)
