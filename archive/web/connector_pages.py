"""The administrators' page of the connectors: for each mail and recording pipe, its last
message, its messages by the hour, its failures and what waits at its source."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get

from archive.access.guards import requires
from archive.access.permissions import Permission
from archive.api.deps import RuntimeDep, SessionDep
from archive.connectors.schemas import connector_out
from archive.connectors.use_cases.status import connector_status
from archive.web.pages import render

AnyRequest = Request[Any, Any, Any]
PAGE = "/admin/connectors"
# How each connector is named on the page.
KINDS = {
    "smtp": "SMTP journaling",
    "imap": "IMAP mailbox",
    "folder": "Recording folder",
    "bucket": "Recording bucket",
}
STATES = {
    "flowing": "Flowing",
    "failing": "Failing",
    "quiet": "Quiet for 24 hours",
}


class ConnectorPages(Controller):
    path = PAGE

    @get("/", opt=requires(Permission.CONNECTORS_READ), sync_to_thread=True)
    def connectors(self, request: AnyRequest, session: SessionDep, runtime: RuntimeDep) -> Any:
        """Every connector source that has reported, failing ones first."""
        sources = [connector_out(source) for source in connector_status(session, runtime)]
        order = {"failing": 0, "flowing": 1, "quiet": 2}
        sources.sort(key=lambda source: (order[source.state], source.connector, source.source))
        busiest = max((hour.messages for s in sources for hour in s.hours), default=0)
        return render(
            request,
            "connectors.html",
            sources=sources,
            kinds=KINDS,
            states=STATES,
            busiest=busiest,
        )
