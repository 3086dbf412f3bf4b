"""HTTP route of the connectors' status: how each mail and recording pipe fares."""

from __future__ import annotations

from litestar import Controller, get

from archive.access.guards import requires
from archive.access.permissions import Permission
from archive.api.deps import RuntimeDep, SessionDep
from archive.connectors.schemas import ConnectorOut, connector_out
from archive.connectors.use_cases.status import connector_status


class ConnectorController(Controller):
    path = "/api/v1/connectors"
    tags = ["connectors"]

    @get("/", opt=requires(Permission.CONNECTORS_READ), sync_to_thread=True)
    def list_connectors(self, session: SessionDep, runtime: RuntimeDep) -> list[ConnectorOut]:
        """Every connector source that has reported: its last message and last error, its
        backlog, and its messages of the last 24 hours by the hour and by outcome."""
        return [connector_out(source) for source in connector_status(session, runtime)]
