"""Database ids read from text people or platforms sent (button values, form state, commands).

Ids are 64-bit signed integers on both databases; anything else (a sign, other scripts'
digits, twenty digits) is not an id we ever issued, and must never reach a query: PostgreSQL
and SQLite both fail on integers beyond 64 bits instead of finding nothing.
"""

from __future__ import annotations

import re

MAX_ID = 2**63 - 1
_DIGITS = re.compile(r"[0-9]{1,19}")


def parse_id(text: str) -> int | None:
    """The id ``text`` names, or None when it cannot be one of ours."""
    if not _DIGITS.fullmatch(text):
        return None
    number = int(text)
    return number if number <= MAX_ID else None
