"""Working time for one organisation: its time zone, its UK nation's bank holidays, office hours.

Everything is computed on the local wall clock (so 09:00 stays 09:00 across the clock changes)
and handed back as aware UTC datetimes, the only kind stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

DEFAULT_TIMEZONE = "Europe/London"
DEFAULT_NATION = "ENG"

# Our nation codes and the subdivision codes the `holidays` package uses for the UK (checked
# against holidays.countries.UnitedKingdom.subdivisions: ENG, NIR, SCT, WLS).
NATION_SUBDIVISIONS = {"ENG": "ENG", "WLS": "WLS", "SCT": "SCT", "NIR": "NIR"}


@lru_cache(maxsize=8)
def bank_holidays(nation: str) -> holidays.HolidayBase:
    """The bank holidays of a UK nation; years are filled in as they are asked about."""
    subdiv = NATION_SUBDIVISIONS.get(nation.upper(), NATION_SUBDIVISIONS[DEFAULT_NATION])
    return holidays.country_holidays("GB", subdiv=subdiv)


def zone(name: str | None) -> ZoneInfo:
    """The named time zone; an unknown name falls back to the default rather than failing."""
    try:
        return ZoneInfo(name or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


@dataclass(frozen=True)
class WorkCalendar:
    """When an organisation is at work: working days and office hours in its own time zone."""

    timezone: str = DEFAULT_TIMEZONE
    nation: str = DEFAULT_NATION
    opens: time = time(9, 0)
    closes: time = time(17, 0)

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.timezone)

    # ---- days ---------------------------------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in bank_holidays(self.nation)

    def working_day_on_or_after(self, day: date) -> date:
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def working_day_on_or_before(self, day: date) -> date:
        while not self.is_working_day(day):
            day -= timedelta(days=1)
        return day

    def add_working_days(self, day: date, n: int) -> date:
        """``n`` working days after (or, negative, before) ``day``; ``day`` itself not counted."""
        step = 1 if n >= 0 else -1
        left = abs(n)
        while left:
            day += timedelta(days=step)
            if self.is_working_day(day):
                left -= 1
        return day

    # ---- instants -----------------------------------------------------------------------------

    def local(self, instant: datetime) -> datetime:
        return instant.astimezone(self.tz)

    def local_date(self, instant: datetime) -> date:
        return self.local(instant).date()

    def at(self, day: date, clock: time) -> datetime:
        """``clock`` on ``day`` in the organisation's zone, as UTC (DST-correct)."""
        return datetime.combine(day, clock, tzinfo=self.tz).astimezone(UTC)

    def opening(self, day: date) -> datetime:
        return self.at(day, self.opens)

    def is_open(self, instant: datetime) -> bool:
        here = self.local(instant)
        return self.is_working_day(here.date()) and self.opens <= here.time() < self.closes

    def next_open(self, instant: datetime) -> datetime:
        """``instant`` if it falls in office hours, else the next time the office opens."""
        if self.is_open(instant):
            return instant.astimezone(UTC)
        here = self.local(instant)
        day = here.date()
        if self.is_working_day(day) and here.time() < self.opens:
            return self.opening(day)
        return self.opening(self.working_day_on_or_after(day + timedelta(days=1)))

    def add_working_days_at(self, instant: datetime, n: int) -> datetime:
        """The same local time ``n`` working days later, moved into office hours if needed."""
        here = self.local(instant)
        later = self.add_working_days(here.date(), n)
        return self.next_open(self.at(later, here.time().replace(tzinfo=None)))
