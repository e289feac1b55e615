"""When core group supervision is due, and which nudge belongs to which day: pure rules.

The local procedure: supervision takes place 3 months after child protection registration and
every 6 months after that; after a pre-birth registration it starts 3 months after the review
conference (RCPPM). Nothing here touches the database or the clock: callers pass ``today``.
"""

from __future__ import annotations

import calendar as _calendar
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from prompts.strings import t
from storage.models import CoreGroup, GroupStatus

ANCHOR_REGISTRATION = "registration"  # a fixed series: registration + 3, 9, 15… months
ANCHOR_LAST_HELD = "last_held"  # 6 months after the supervision actually held last

REASON_REGISTRATION = "registration"
REASON_RCPPM = "rcppm"
REASON_SERIES = "series"
REASON_LAST_HELD = "last_held"


@dataclass(frozen=True)
class Rules:
    """The tunable parts of the schedule (defaults: the local child protection procedure)."""

    first_months: int = 3
    every_months: int = 6
    lead_days: int = 14  # first nudge this many days ahead of the due date
    overdue_every_days: int = 7
    overdue_nudges: int = 6  # at most this many weekly nudges once overdue
    report_after_days: int = 28  # overdue this long: tell the Lead Officer, once
    # A supervision closed up to this many days before a due date counts for it: a group that
    # met a little early is not chased for the same occurrence.
    early_credit_days: int = 28

    @property
    def last_overdue_day(self) -> int:
        return max(self.overdue_nudges * self.overdue_every_days, self.report_after_days)


DEFAULT_RULES = Rules()


def add_months(day: date, months: int) -> date:
    """Calendar months later, clamped to the month's end (31 Aug + 6 months = 28/29 Feb)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = _calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


@dataclass(frozen=True)
class Due:
    """One occurrence of supervision: when, and why then (for the nudge's wording)."""

    on: date
    reason: str
    occurrence: int  # 0 for the first supervision, then 1, 2, … (registration anchor)

    def because(self, rules: Rules = DEFAULT_RULES, lang: str = "en") -> str:
        """Why it is due then, in ``lang`` ("3 months after registration")."""
        if self.reason == REASON_REGISTRATION:
            return t("nudge.reason_registration", lang, months=rules.first_months)
        if self.reason == REASON_RCPPM:
            return t("nudge.reason_rcppm", lang, months=rules.first_months)
        if self.reason == REASON_LAST_HELD:
            return t("nudge.reason_last_held", lang, months=rules.every_months)
        return t("nudge.reason_repeat", lang, months=rules.every_months)


def base_date(group: CoreGroup) -> tuple[date, str] | None:
    """Where the schedule starts: registration, or for pre-birth the review conference."""
    if group.pre_birth:
        return (group.rcppm_on, REASON_RCPPM) if group.rcppm_on else None
    return group.registered_on, REASON_REGISTRATION


def held_dates(group: CoreGroup, closed_on: Iterable[date]) -> list[date]:
    """Every supervision known to have been held: closed sessions plus a recorded last date."""
    dates = set(closed_on)
    if group.last_supervision_on:
        dates.add(group.last_supervision_on)
    return sorted(dates)


def current_due(
    group: CoreGroup, held: Iterable[date], today: date, rules: Rules = DEFAULT_RULES
) -> Due | None:
    """The occurrence the group should be hearing about today, or None (ended, not yet known).

    ``held`` are the local dates on which supervisions were held (see :func:`held_dates`).
    """
    if group.status == GroupStatus.ENDED:
        return None
    base = base_date(group)
    if base is None:
        return None  # pre-birth, review conference date not known yet
    start, first_reason = base
    held_sorted = sorted(set(held))
    first = Due(add_months(start, rules.first_months), first_reason, 0)

    if group.schedule_anchor == ANCHOR_LAST_HELD:
        after_start = [d for d in held_sorted if d >= start]
        if not after_start:
            return first
        last = after_start[-1]
        return Due(add_months(last, rules.every_months), REASON_LAST_HELD, len(after_start))
    return _series_due(start, first_reason, held_sorted, today, rules)


def _series_due(start: date, first_reason: str, held: list[date], today: date, rules: Rules) -> Due:
    """Registration anchor: the fixed series start + 3, 9, 15 … months."""

    def occurrence(k: int) -> Due:
        months = rules.first_months + k * rules.every_months
        return Due(add_months(start, months), first_reason if k == 0 else REASON_SERIES, k)

    def window_opens(k: int) -> date:
        return occurrence(k).on - timedelta(days=rules.early_credit_days)

    def satisfied(k: int) -> bool:
        # Time is cut into windows, one an occurrence, each opening a little before its due
        # date: a supervision held in a window (early, on time or late) counts for it.
        return any(window_opens(k) <= d < window_opens(k + 1) for d in held)

    latest = -1
    while occurrence(latest + 1).on <= today:
        latest += 1
    k = max(latest, 0)
    # Once the next occurrence's nudging starts, an unheld earlier one stops being chased.
    if k == latest and today >= occurrence(k + 1).on - timedelta(days=rules.lead_days):
        k += 1
    while satisfied(k):
        k += 1
    return occurrence(k)


# ---- nudges ------------------------------------------------------------------------------------

STAGE_AHEAD = "ahead"
STAGE_DUE = "due"


def overdue_stage(n: int) -> str:
    return f"overdue{n}"


@dataclass(frozen=True)
class Stage:
    """One nudge of an occurrence: its name (part of the ledger key) and its calendar day."""

    name: str
    day: date
    overdue_days: int = 0


def nudge_stages(
    due: Due, rules: Rules = DEFAULT_RULES, roll: Callable[[date], date] | None = None
) -> list[Stage]:
    """Ahead, on the day, then weekly while overdue (bounded).

    ``roll`` moves a day to a working day (weekends, bank holidays). Two nudges that land on the
    same day become one, the later, so a channel never hears twice in a day.
    """
    raw = [
        Stage(STAGE_AHEAD, due.on - timedelta(days=rules.lead_days)),
        Stage(STAGE_DUE, due.on),
    ]
    for n in range(1, rules.overdue_nudges + 1):
        days = n * rules.overdue_every_days
        raw.append(Stage(overdue_stage(n), due.on + timedelta(days=days), days))
    stages: list[Stage] = []
    for stage in raw:
        day = roll(stage.day) if roll else stage.day
        if stages and stages[-1].day >= day:
            stages.pop()
        stages.append(Stage(stage.name, day, stage.overdue_days))
    return stages


def stage_for(
    due: Due,
    today: date,
    rules: Rules = DEFAULT_RULES,
    roll: Callable[[date], date] | None = None,
) -> Stage | None:
    """The latest nudge whose day has come, while today is still inside the nudging."""
    stages = nudge_stages(due, rules, roll)
    passed = [s for s in stages if s.day <= today]
    if not passed:
        return None
    # A week after the final overdue nudge the channel hears nothing more about this one.
    if today >= stages[-1].day + timedelta(days=rules.overdue_every_days):
        return None
    return passed[-1]


def report_day(due: Due, rules: Rules = DEFAULT_RULES) -> date:
    """When an overdue supervision is reported to the Lead Officer."""
    return due.on + timedelta(days=rules.report_after_days)
