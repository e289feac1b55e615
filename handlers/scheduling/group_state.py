"""Where a core group's supervision stands today, and which groups a planning pass looks at.

:class:`SupervisionState` (the occurrence due, whether a session is under way) is what the App
Home, the digest, the *Pick a date* form and the group-watching kinds (channel nudges, Lead
Officer reports) read. The planner spares itself the groups where nothing can change: each
group's bookmark (``next_check_on``, a local date) is the next day on which any registered
kind's answer could differ; only groups whose bookmark has come are looked at.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.scheduling.calendar import WorkCalendar
from handlers.scheduling.deliveries import (
    CheckedGroup,
    DeliveryKind,
    PlanningPass,
    SupervisionState,
    calendar_for,
    chunks,
)
from handlers.scheduling.due import (
    ANCHOR_LAST_HELD,
    Rules,
    add_months,
    base_date,
    current_due,
    held_dates,
)
from storage.models import (
    CoreGroup,
    GroupStatus,
    Organisation,
    ReflectionSession,
    SessionStatus,
)

# After an upgrade or a large import every group needs a first look (~0.5 ms each): a few
# thousand a sweep keeps each write transaction to seconds; the rest follow a minute later.
MAX_GROUPS_PER_SWEEP = 5_000
RECHECK_AT_LEAST_EVERY = timedelta(days=366)


def state_on(
    group: CoreGroup, held: list[date], under_way: bool, today: date, rules: Rules
) -> SupervisionState:
    """Pure: the state from the group's held dates and whether a session is open."""
    due = current_due(group, held, today, rules) if group.id is not None else None
    return SupervisionState(due, under_way, today)


async def supervision_state(
    s: AsyncSession, group: CoreGroup, cal: WorkCalendar, now: datetime, rules: Rules
) -> SupervisionState:
    """One group's state (screens, sending time); the planner batches the same lookups."""
    today = cal.local_date(now)
    under_way = group.id is not None and group.id in await _open_groups(s, [group.id])
    closed = (await _closed_at_by_group(s, [group.id])) if group.id is not None else {}
    held = held_dates(group, [cal.local_date(at) for at in closed.get(group.id or 0, [])])
    return state_on(group, held, under_way, today, rules)


async def _closed_at_by_group(s: AsyncSession, ids: list[int]) -> dict[int, list[datetime]]:
    out: dict[int, list[datetime]] = {}
    for chunk in chunks(ids):
        rows = await s.exec(
            select(ReflectionSession.group_id, ReflectionSession.closed_at).where(
                col(ReflectionSession.group_id).in_(chunk),
                col(ReflectionSession.status) == SessionStatus.CLOSED,
                col(ReflectionSession.closed_at).is_not(None),
            )
        )
        for group_id, closed_at in rows:
            if closed_at is not None:
                out.setdefault(group_id, []).append(closed_at)
    return out


async def _open_groups(s: AsyncSession, ids: list[int]) -> set[int]:
    out: set[int] = set()
    for chunk in chunks(ids):
        rows = await s.exec(
            select(ReflectionSession.group_id).where(
                col(ReflectionSession.group_id).in_(chunk),
                col(ReflectionSession.status) == SessionStatus.OPEN,
            )
        )
        out.update(rows)
    return out


# ---- the bookmark ------------------------------------------------------------------------------


def next_check(
    group: CoreGroup,
    state: SupervisionState,
    cal: WorkCalendar,
    rules: Rules,
    kinds: list[DeliveryKind],
) -> date:
    """The next local date on which a kind's answer for the group could differ, with the
    group's inputs unchanged: the days each kind names (``DeliveryKind.changes_on``) and, for
    the registration anchor, an occurrence's date or the start of its nudging (which
    occurrence is current moves then). Anything earlier is harmless (one more check); anything
    later would lose a delivery, hence the property test."""
    today = state.today
    days = [today + RECHECK_AT_LEAST_EVERY]
    base = base_date(group)
    if state.due is not None and group.schedule_anchor != ANCHOR_LAST_HELD and base is not None:
        for k in range(state.due.occurrence + 2):
            on = add_months(base[0], rules.first_months + k * rules.every_months)
            days += [on, on - timedelta(days=rules.lead_days)]
    for kind in kinds:
        if kind.changes_on is not None:
            days += kind.changes_on(group, state, cal, rules)
    return min(day for day in days if day > today)


async def groups_to_check(s: AsyncSession, now: datetime) -> list[CoreGroup]:
    """Active groups whose bookmark says something may change today (or was never set).

    ``next_check_on`` is a local date: compared with the latest local date of any organisation's
    time zone, then narrowed per organisation in Python. Indexed: the cost follows the groups
    due, not all of them.
    """
    zones = set(await s.exec(select(Organisation.timezone).distinct()))
    horizon = max((WorkCalendar(timezone=z).local_date(now) for z in zones), default=now.date())
    stmt = select(CoreGroup).where(
        col(CoreGroup.status) == GroupStatus.ACTIVE,
        or_(col(CoreGroup.next_check_on).is_(None), col(CoreGroup.next_check_on) <= horizon),
    )
    # Groups whose bookmark came due before those never looked at (false sorts first).
    stmt = stmt.order_by(col(CoreGroup.next_check_on).is_(None), col(CoreGroup.id))
    return list(await s.exec(stmt.limit(MAX_GROUPS_PER_SWEEP)))


async def checked_groups(run: PlanningPass) -> list[CheckedGroup]:
    """The groups whose bookmark has come, with their state today: looked up once a pass, and
    (not in a dry run) their bookmarks moved on to the next day anything can change."""
    if run.checked is None:
        run.checked = await _check_groups(run)
    return run.checked


async def _check_groups(run: PlanningPass) -> list[CheckedGroup]:
    s, now = run.s, run.now
    looking: list[tuple[CoreGroup, int, Organisation, WorkCalendar, date]] = []
    for group in await groups_to_check(s, now):
        org = await run.org(group.org_id)
        if org is None or group.id is None:
            continue
        cal = calendar_for(org)
        today = cal.local_date(now)
        if group.next_check_on is not None and group.next_check_on > today:
            continue  # still tomorrow in this organisation's time zone
        looking.append((group, group.id, org, cal, today))
    ids = [group_id for _, group_id, *_ in looking]
    closed = await _closed_at_by_group(s, ids)
    under_way = await _open_groups(s, ids)
    out: list[CheckedGroup] = []
    bookmarks: dict[date, list[int]] = {}
    kinds = list(run.kinds)
    for group, group_id, org, cal, today in looking:
        held = held_dates(group, [cal.local_date(at) for at in closed.get(group_id, [])])
        state = state_on(group, held, group_id in under_way, today, run.rules)
        out.append(CheckedGroup(group, group_id, org, cal, state))
        bookmarks.setdefault(next_check(group, state, cal, run.rules, kinds), []).append(group_id)
    if not run.dry_run:
        await _move_bookmarks(s, bookmarks)
    return out


async def _move_bookmarks(s: AsyncSession, bookmarks: dict[date, list[int]]) -> None:
    for day, group_ids in bookmarks.items():
        for chunk in chunks(group_ids):
            await s.exec(
                update(CoreGroup)
                .where(col(CoreGroup.id).in_(chunk))
                .values(next_check_on=day)
                .execution_options(synchronize_session=False)
            )
