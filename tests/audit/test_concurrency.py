"""Many writers appending at once still make one unbroken chain, on PostgreSQL and SQLite."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from archive.audit import Actor, AuditAction, AuditRecord, verify
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
    # On PostgreSQL a request reads before it records what it did, and that read must not leave
    # the writer chaining to a head another writer has since moved on from. SQLite lets no
    # transaction that has only read write once another writer has committed (it fails, never
    # forks), so there the append is the transaction's first statement.
    read_first = runtime.engine.dialect.name == "postgresql"
    start.wait()
    for number in range(appends):
        with runtime.session() as session:
            if read_first:
                session.scalar(select(func.max(AuditRecord.id)))
            AuditLog(session, runtime).record(
                Actor(name=name, role="agent"),
                AuditAction.CONTACT_METADATA_READ,
                target_ids=[f"contact-{number}"],
            )
            session.commit()


def test_concurrent_writers_make_one_chain(audit_runtime: Runtime, backend: Backend) -> None:
    threads, appends = WRITERS[backend.database]
    start = threading.Barrier(threads)
    errors: list[BaseException] = []

    def run(name: str) -> None:
        try:
            _writer(audit_runtime, name, appends, start)
        except BaseException as error:
            errors.append(error)
            start.abort()

    workers = [threading.Thread(target=run, args=(f"writer{n}",)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []

    with audit_runtime.session() as session:
        total = session.scalar(select(func.count()).select_from(AuditRecord))
        links = session.scalar(select(func.count(func.distinct(AuditRecord.prev_hash))))
        rows = session.execute(select(AuditRecord.actor, func.count()).group_by(AuditRecord.actor))
        per_writer = dict(rows.all())
    assert total == threads * appends
    assert links == total  # no two records chained to the same one: no fork
    assert per_writer == {f"writer{n}": appends for n in range(threads)}
    report = verify(audit_runtime)
    assert report.ok, report.summary()
    assert report.records == total
