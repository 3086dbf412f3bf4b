"""How every connector fares, for the administrators' page and the API.

Nothing personal is read: counts, times, the sources as configured and the last error's
text, which names a fault (`451 4.3.0 ...`, a refused login), never a message's content.
So the read is not recorded in the audit trail, as no contact or identifier is opened.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from archive.connectors.activity import SourceReport, report
from archive.runtime import Runtime


def connector_status(session: Session, runtime: Runtime) -> list[SourceReport]:
    """Every source that has reported, with its last 24 hours by the hour."""
    return report(session, runtime.clock.now())
