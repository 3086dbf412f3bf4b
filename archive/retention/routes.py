"""HTTP routes for the retention policy (show, preview a change, apply) and deletion records."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from datetime import datetime
from typing import Any

from litestar import Controller, Request, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Stream

from archive.access.guards import requires
from archive.access.permissions import Permission
from archive.api.deps import RuntimeDep, SessionDep
from archive.api.trail import actor_of
from archive.retention import use_cases
from archive.retention.models import DeletionRun
from archive.retention.schemas import (
    AppliedOut,
    DiffOut,
    PolicyIn,
    PolicyOut,
    RunOut,
    policy_out,
    proposed_policy,
    run_out,
)

AnyRequest = Request[Any, Any, Any]


class PolicyController(Controller):
    path = "/api/v1/retention/policy"
    tags = ["retention"]

    @get("/", opt=requires(Permission.POLICY_READ), sync_to_thread=True)
    def show(self, request: AnyRequest, session: SessionDep, runtime: RuntimeDep) -> PolicyOut:
        """The policy in force, as canonical TOML, with when and by whom it was applied."""
        actor = actor_of(request, Permission.POLICY_READ)
        return policy_out(use_cases.policy_in_force(session, runtime, actor))

    @post("/diff", opt=requires(Permission.POLICY_MANAGE), sync_to_thread=True, status_code=200)
    def diff(
        self,
        request: AnyRequest,
        data: JSONBody[PolicyIn],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> DiffOut:
        """Per channel, how many stored contacts would expire earlier, later or at once."""
        actor = actor_of(request, Permission.POLICY_MANAGE)
        proposed = proposed_policy(data.document)
        result = use_cases.preview_policy(session, runtime, actor, proposed)
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
        actor = actor_of(request, Permission.POLICY_MANAGE)
        proposed = proposed_policy(data.document)
        applied = use_cases.apply_policy(session, runtime, actor, proposed)
        shown = policy_out(use_cases.policy_in_force(session, runtime, actor))
        return AppliedOut(shown, applied.retiming)


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
        actor = actor_of(request, Permission.DELETIONS_READ)
        found = use_cases.deletion_runs(session, runtime, actor, since=since, limit=limit)
        return [run_out(run) for run in found]

    @get("/{run_id:uuid}", opt=requires(Permission.DELETIONS_READ), sync_to_thread=True)
    def one(
        self,
        request: AnyRequest,
        run_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> RunOut:
        """One deletion record with the ids of every contact it deleted."""
        actor = actor_of(request, Permission.DELETIONS_READ)
        run, ids = use_cases.deletion_run(session, runtime, actor, run_id)
        return run_out(run, ids)

    @get("/export", opt=requires(Permission.DELETIONS_READ), sync_to_thread=True)
    def export(self, request: AnyRequest, session: SessionDep, runtime: RuntimeDep) -> Stream:
        """Every deletion record with its contact ids, as JSON lines: proof of deletion."""
        actor = actor_of(request, Permission.DELETIONS_READ)
        return Stream(
            _lines(use_cases.export_deletion_runs(session, runtime, actor)),
            media_type="application/x-ndjson",
            headers={"Content-Disposition": 'attachment; filename="deletions.jsonl"'},
        )


def _lines(found: Iterable[tuple[DeletionRun, list[uuid.UUID]]]) -> Iterator[bytes]:
    for run, ids in found:
        line = asdict(run_out(run, ids))
        yield (json.dumps(line, default=str, sort_keys=True) + "\n").encode()
