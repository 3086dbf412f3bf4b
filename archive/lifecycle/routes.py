"""HTTP routes of the end of a contact: erasing the customer of a data-subject request.

The route keeps its place among the privacy officer's case routes; it lives here because
erasure sits above privacy, which never imports it.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, post
from litestar.params import FromPath

from archive.access.guards import requires
from archive.access.permissions import Permission
from archive.api.deps import RuntimeDep, SessionDep
from archive.api.trail import actor_of
from archive.lifecycle.schemas import ErasureOut, erasure_out
from archive.lifecycle.use_cases import erase_case

AnyRequest = Request[Any, Any, Any]


class ErasureController(Controller):
    path = "/api/v1/privacy/cases"
    tags = ["privacy"]

    @post(
        "/{case_id:uuid}/erasure",
        opt=requires(Permission.PRIVACY_CASES),
        sync_to_thread=True,
        status_code=200,
    )
    def erase(
        self,
        request: AnyRequest,
        case_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> ErasureOut:
        """Erase the customer: every contact no hold keeps, and, once nothing is withheld,
        their identifiers and the tickets that concern only them. Withheld contacts are listed
        with their hold and its end; they are erased when it ends, and the case then closes."""
        actor = actor_of(request, Permission.PRIVACY_CASES)
        result = erase_case(session, runtime, actor, case_id)
        return erasure_out(result)
