"""HTTP routes for the retention policy (show, preview a change, apply) and deletion records."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from litestar import Controller, Request, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Stream
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.access.guards import requires
from archive.access.permissions import Permission
from archive.api.deps import RuntimeDep, SessionDep
from archive.api.trail import principal_of, record
from archive.audit import AuditAction
from archive.contacts.models import Contact, ContactState
from archive.errors import InvalidInput, NotFound
from archive.jobs import start_retime
from archive.retention.models import DeletionRun, PolicyRecord
from archive.retention.policy import Policy, parse_policy
from archive.retention.service import ChannelChange, RetentionService, apply_policy
from archive.runtime import Runtime

AnyRequest = Request[Any, Any, Any]
MAX_POLICY_BYTES = 64 * 1024
MAX_RUNS = 200


@dataclass(frozen=True)
class PolicyIn:
    document: str  # the policy file's TOML text


@dataclass(frozen=True)
class PolicyOut:
    name: str
    version: str
    document: str
    applied_at: datetime | None
    applied_by: str | None
    retimed_at: datetime | None


@dataclass(frozen=True)
class DiffOut:
    current: str
    proposed: str
    channels: dict[str, ChannelChange]


@dataclass(frozen=True)
class AppliedOut:
    policy: PolicyOut
    retiming: str  # where the re-timing of stored contacts runs: `worker` or `thread`


@dataclass(frozen=True)
class RunOut:
    id: uuid.UUID
    started_at: datetime
    finished_at: datetime | None
    actor: str
    policy_version: str
    deleted: int
    held: int
    lapsed_holds: int
    counts: dict[str, dict[str, int]]
    audit_hash: str | None
    contact_ids: list[uuid.UUID] | None = None


def run_out(run: DeletionRun, ids: list[uuid.UUID] | None = None) -> RunOut:
    return RunOut(
        id=run.id,
        started_at=run.started_at,
        finished_at=run.finished_at,
        actor=run.actor,
        policy_version=run.policy_version,
        deleted=run.deleted,
        held=run.held,
        lapsed_holds=run.lapsed_holds,
        counts=json.loads(run.counts),
        audit_hash=run.audit_hash,
        contact_ids=ids,
    )


def deleted_by(session: Session, run_id: uuid.UUID) -> list[uuid.UUID]:
    """The tombstones a run left: every contact it deleted."""
    return list(
        session.scalars(
            select(Contact.id)
            .where(Contact.claimed_by == str(run_id), Contact.state == ContactState.DELETED)
            .order_by(Contact.id)
        )
    )


def proposed_policy(document: object) -> Policy:
    """The policy a caller proposes as TOML text, checked; PolicyError says what is wrong."""
    if not isinstance(document, str) or len(document.encode()) > MAX_POLICY_BYTES:
        raise InvalidInput(f"document: a TOML policy of at most {MAX_POLICY_BYTES} bytes")
    return parse_policy(document, "request")


def apply_proposed(runtime: Runtime, session: Session, proposed: Policy, username: str) -> str:
    """Make `proposed` the policy in force (audited) and start re-timing stored contacts;
    says where the re-timing runs."""
    session.rollback()  # apply_policy writes in a transaction of its own
    applied = apply_policy(runtime, proposed, origin=username, actor=username, role="admin")
    return start_retime(runtime, applied.id)


def policy_out(runtime: Runtime, session: Session) -> PolicyOut:
    service = RetentionService(session, runtime)
    current: PolicyRecord | None = service.current_record()
    policy = service.in_force()
    return PolicyOut(
        name=policy.name,
        version=policy.version,
        document=policy.to_toml(),
        applied_at=current.applied_at if current else None,
        applied_by=current.origin if current else None,
        retimed_at=current.retimed_at if current else None,
    )


class PolicyController(Controller):
    path = "/api/v1/retention/policy"
    tags = ["retention"]

    @get("/", opt=requires(Permission.POLICY_READ), sync_to_thread=True)
    def show(self, session: SessionDep, runtime: RuntimeDep) -> PolicyOut:
        """The policy in force, as canonical TOML, with when and by whom it was applied."""
        return policy_out(runtime, session)

    @post("/diff", opt=requires(Permission.POLICY_MANAGE), sync_to_thread=True, status_code=200)
    def diff(self, data: JSONBody[PolicyIn], session: SessionDep, runtime: RuntimeDep) -> DiffOut:
        """Per channel, how many stored contacts would expire earlier, later or at once."""
        result = RetentionService(session, runtime).diff(proposed_policy(data.document))
        return DiffOut(result.current, result.proposed, result.channels)

    @put("/", opt=requires(Permission.POLICY_MANAGE), sync_to_thread=True)
    def apply(
        self,
        request: AnyRequest,
        data: JSONBody[PolicyIn],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> AppliedOut:
        """Make a policy the one in force; stored contacts are re-timed in the background."""
        proposed = proposed_policy(data.document)
        where = apply_proposed(runtime, session, proposed, principal_of(request).username)
        return AppliedOut(policy_out(runtime, session), where)


class DeletionController(Controller):
    path = "/api/v1/deletions"
    tags = ["retention"]

    @get("/", opt=requires(Permission.DELETIONS_READ), sync_to_thread=True)
    def runs(
        self,
        request: AnyRequest,
        session: SessionDep,
        runtime: RuntimeDep,
        since: FromQuery[datetime | None] = None,
        limit: FromQuery[int] = 50,
    ) -> list[RunOut]:
        """Deletion records, newest first: counts per channel and reason, policy, chain hash."""
        return list_runs(request, session, runtime, since=since, limit=limit)

    @get("/{run_id:uuid}", opt=requires(Permission.DELETIONS_READ), sync_to_thread=True)
    def one(
        self,
        request: AnyRequest,
        run_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> RunOut:
        """One deletion record with the ids of every contact it deleted."""
        return read_run(request, session, runtime, run_id)

    @get("/export", opt=requires(Permission.DELETIONS_READ), sync_to_thread=True)
    def export(self, request: AnyRequest, session: SessionDep, runtime: RuntimeDep) -> Stream:
        """Every deletion record with its contact ids, as JSON lines: proof of deletion."""
        _audit(request, session, runtime, [])
        return Stream(
            _export_lines(runtime),
            media_type="application/x-ndjson",
            headers={"Content-Disposition": 'attachment; filename="deletions.jsonl"'},
        )


def list_runs(
    request: AnyRequest,
    session: Session,
    runtime: Runtime,
    *,
    since: datetime | None = None,
    limit: int = 50,
) -> list[RunOut]:
    """Deletion records, newest first, and the record that they were read (committed)."""
    if not 1 <= limit <= MAX_RUNS:
        raise InvalidInput(f"limit: between 1 and {MAX_RUNS}", field="limit")
    query = select(DeletionRun).order_by(DeletionRun.started_at.desc()).limit(limit)
    if since is not None:
        query = query.where(DeletionRun.started_at >= since)
    runs = list(session.scalars(query))
    _audit(request, session, runtime, [run.id for run in runs])
    return [run_out(run) for run in runs]


def read_run(request: AnyRequest, session: Session, runtime: Runtime, run_id: uuid.UUID) -> RunOut:
    """One deletion record with its contact ids, and the record that it was read (committed)."""
    run = session.get(DeletionRun, run_id)
    if run is None:
        raise NotFound(f"no deletion run {run_id}")
    _audit(request, session, runtime, [run.id])
    return run_out(run, deleted_by(session, run.id))


def _export_lines(runtime: Runtime) -> Iterator[bytes]:
    with runtime.reading() as session:
        for run in session.scalars(select(DeletionRun).order_by(DeletionRun.started_at)):
            line = asdict(run_out(run, deleted_by(session, run.id)))
            yield (json.dumps(line, default=str, sort_keys=True) + "\n").encode()


def _audit(request: AnyRequest, session: Session, runtime: Runtime, ids: list[uuid.UUID]) -> None:
    record(
        request,
        session,
        runtime,
        action=AuditAction.DELETIONS_READ,
        permission=Permission.DELETIONS_READ,
        target_type="deletion_run",
        target_ids=ids[:50],
    )
    session.commit()
