"""The words of the pages of the audit trail and deletion records in Swedish and Finnish."""

from __future__ import annotations

WORDS: dict[str, dict[str, str]] = {
    "sv": {},
    "fi": {},
}
