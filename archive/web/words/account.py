"""The words of the pages of one's own account (second factor) in Swedish and Finnish."""

from __future__ import annotations

WORDS: dict[str, dict[str, str]] = {
    "sv": {},
    "fi": {},
}
