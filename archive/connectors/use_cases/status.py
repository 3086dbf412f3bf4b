"""How every connector fares, for the administrators' page and the API.

What is read: counts, times, the sources as configured and the last error, which names the
kind of fault (`451 4.3.0 ...`, a refused login), never a message, file or key (see
`archive.connectors.outcomes.reason_of`). No contact or identifier is opened, so the read is
not recorded in the audit trail.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from archive.connectors.activity import SourceReport, report
from archive.runtime import Runtime


def connector_status(session: Session, runtime: Runtime) -> list[SourceReport]:
    """Every source that has reported, with its last 24 hours by the hour."""
    return report(session, runtime.clock.now())
