"""What every handler is given: the database, the question sets, the clock and the limits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from handlers.base.record_view import DEFAULT_MARKING
from prompts.loader import Catalogue
from storage.db import Database
from storage.types import utcnow


@dataclass
class Core:
    db: Database
    sets: Catalogue
    clock: Callable[[], datetime] = field(default=utcnow)
    max_answer_chars: int = 3000
    session_hours: int = 72  # how long a session stays open for answers by default
    child_names_allowed: bool = False
    default_timezone: str = "Europe/London"
    default_nation: str = "ENG"
    digest_min_count: int = 5  # Lead Officer digest: smaller counts are shown as "fewer than"
    protective_marking: str = DEFAULT_MARKING  # at the top and foot of each page of a Word record
    # Retention in days (handlers.governance.retention); None keeps that data for ever.
    answer_retention_days: int | None = 90
    record_retention_days: int | None = 2555
    audit_retention_days: int | None = 2920
    # Sent nudges and reminders; once their dates have passed they can never be planned again.
    delivery_retention_days: int | None = 90

    def now(self) -> datetime:
        return self.clock()
