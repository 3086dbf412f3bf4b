"""What the tickets API takes (it answers with `TicketView`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from archive.tickets.models import TicketCategory, TicketStatus


@dataclass(frozen=True)
class TicketIn:
    external_ref: str
    subject: str | None = None
    category: str = TicketCategory.QUESTION.value
    status: str = TicketStatus.OPEN.value
    customer_id: uuid.UUID | None = None
    opened_at: datetime | None = None


@dataclass(frozen=True)
class TicketChange:
    subject: str | None = None
    category: str | None = None
    status: str | None = None
