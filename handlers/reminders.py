"""Which nudges and reminders are due, as ledger rows, and what each one says when it goes out.

Three streams, one ledger (``storage.ledger``):

- **nudges** in the core group's channel when supervision is due (ahead, on the day, weekly
  while overdue), and one report to the Lead Officer(s) when it is long overdue;
- **reminders** by DM to members who have not finished an open reflection: two, then a third
  that says what is left, then nothing more;
- **actions**: the owner hears two working days before an action's due date and on the day.

:func:`plan` inserts the rows that have come due (idempotent: the key is unique) and
:func:`render` decides, at the moment of sending, whether a claimed row still applies and what
to say. Both only look at the database and the clock; the scheduler does the sending.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.access import find_org, group_by_id, require_facilitator
from handlers.calendar import WorkCalendar
from handlers.core import Core
from handlers.errors import NotFound
from handlers.events import Actor
from handlers.i18n import language_for, org_language
from handlers.messages import (
    Button,
    Buttons,
    Context,
    Direct,
    Intent,
    Mention,
    Message,
    Paragraph,
    Post,
    Quiet,
    Reply,
    Strong,
    plain,
    spans_text,
)
from handlers.schedule import (
    ANCHOR_LAST_HELD,
    DEFAULT_RULES,
    Due,
    Rules,
    add_months,
    base_date,
    current_due,
    held_dates,
    nudge_stages,
    stage_for,
)
from handlers.views import minutes_left, t_spans
from prompts.strings import month_abbrev, t, weekday_abbrev
from storage import ledger
from storage.ledger import Planned
from storage.models import (
    ActionItem,
    ActionStatus,
    Answer,
    CoreGroup,
    Delivery,
    GroupStatus,
    Member,
    Organisation,
    OrgRole,
    Participation,
    ParticipationState,
    ReflectionSession,
    SessionStatus,
    StaffRole,
)

KIND_NUDGE = "nudge"
KIND_REPORT = "report"
KIND_REMIND = "remind"
KIND_ACTION = "action"

START_ACTION = "reflect.start"
SNOOZE_ACTION = "schedule.snooze"
PLAN_ACTION = "schedule.plan"  # "Pick a date": see handlers/planning.py
STAGE_PLANNED = "planned"  # + the picked date, so a new date is a new nudge
SNOOZE_DAYS = 7

REMINDER_WORKING_DAYS = (1, 2, 3)  # after the session opened; the third is the personal one
LAST_CHANCE_BEFORE_CLOSE = timedelta(hours=1)
ACTION_DAYS_BEFORE = 2  # working days

# ---- ledger keys: ids and dates only ---------------------------------------------------------


def nudge_key(group_id: int, due_on: date, stage: str) -> str:
    return f"{KIND_NUDGE}:{group_id}:{due_on.isoformat()}:{stage}"


def report_key(group_id: int, due_on: date, staff_role_id: int) -> str:
    return f"{KIND_REPORT}:{group_id}:{due_on.isoformat()}:{staff_role_id}"


def remind_key(session_id: int, member_id: int, n: int) -> str:
    return f"{KIND_REMIND}:{session_id}:{member_id}:{n}"


def action_key(action_id: int, stage: str) -> str:
    return f"{KIND_ACTION}:{action_id}:{stage}"


def calendar_for(org: Organisation | None) -> WorkCalendar:
    if org is None:
        return WorkCalendar()
    return WorkCalendar(timezone=org.timezone, nation=org.nation)


def short_date(day: date, today: date | None = None, lang: str = "en") -> str:
    """'Mon 4 Jan' / 'Llun 4 Ion' (with the year when it is not this year's)."""
    text = f"{weekday_abbrev(day, lang)} {day.day} {month_abbrev(day, lang)}"
    if today is not None and day.year != today.year:
        text += f" {day.year}"
    return text


# ---- planning --------------------------------------------------------------------------------


@dataclass
class _Orgs:
    """Organisations looked up once per sweep."""

    s: AsyncSession
    cache: dict[int, Organisation | None] = field(default_factory=dict)

    async def get(self, org_id: int) -> Organisation | None:
        if org_id not in self.cache:
            self.cache[org_id] = await self.s.get(Organisation, org_id)
        return self.cache[org_id]


async def plan(
    core: Core, now: datetime | None = None, rules: Rules = DEFAULT_RULES, *, dry_run: bool = False
) -> list[Planned]:
    """Insert the ledger rows that have come due; returns the new ones (dry run: would-be ones).

    Outdated unsent nudges of a group (its date moved, a later nudge superseded them) are
    cancelled in the same transaction.
    """
    now = now or core.now()
    async with core.db.read() if dry_run else core.db.write() as s:
        if not dry_run and not await ledger.planning_turn(s):
            return []  # another instance is planning this very moment; its rows will do
        orgs = _Orgs(s)
        wanted: list[Planned] = []
        wanted += await _plan_nudges(s, orgs, now, rules, dry_run=dry_run)
        wanted += await _plan_reminders(s, orgs, now)
        wanted += await _plan_actions(s, orgs, now)
        known = await ledger.existing_keys(s, [p.key for p in wanted])
        new = sorted((p for p in wanted if p.key not in known), key=lambda p: p.key)
        if not dry_run:
            await ledger.insert_new(s, new)
        return new


CHUNK = 500  # ids per IN (…) list: well inside every driver's parameter limit
# After an upgrade or a large import every group needs a first look (~0.5 ms each): a few
# thousand a sweep keeps each write transaction to seconds; the rest follow a minute later.
MAX_GROUPS_PER_SWEEP = 5_000
RECHECK_AT_LEAST_EVERY = timedelta(days=366)


async def _groups_to_check(s: AsyncSession, now: datetime) -> list[CoreGroup]:
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


def _chunks(ids: list[int]) -> list[list[int]]:
    return [ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)]


async def _closed_at_by_group(s: AsyncSession, ids: list[int]) -> dict[int, list[datetime]]:
    out: dict[int, list[datetime]] = {}
    for chunk in _chunks(ids):
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
    for chunk in _chunks(ids):
        rows = await s.exec(
            select(ReflectionSession.group_id).where(
                col(ReflectionSession.group_id).in_(chunk),
                col(ReflectionSession.status) == SessionStatus.OPEN,
            )
        )
        out.update(rows)
    return out


async def _held(s: AsyncSession, group: CoreGroup, cal: WorkCalendar) -> list[date]:
    closed = (await _closed_at_by_group(s, [group.id])) if group.id is not None else {}
    return held_dates(group, [cal.local_date(at) for at in closed.get(group.id or 0, [])])


@dataclass(frozen=True)
class NudgeState:
    """Where a group's schedule stands today."""

    due: Due | None
    stage_key: str | None
    stage_name: str | None
    today: date
    report_due: bool = False


def decide(
    group: CoreGroup,
    held: list[date],
    under_way: bool,
    cal: WorkCalendar,
    today: date,
    rules: Rules,
) -> NudgeState:
    """Pure: where the group stands today, from its held dates and whether a session is open."""
    due = current_due(group, held, today, rules)
    if due is None or group.id is None:
        return NudgeState(None, None, None, today)
    if under_way:
        # The supervision is under way: nobody needs telling to start it.
        return NudgeState(due, None, None, today)
    report_on = cal.working_day_on_or_after(due.on + timedelta(days=rules.report_after_days))
    report_due = report_on <= today <= due.on + timedelta(days=rules.last_overdue_day + 7)
    planned = planned_day(group, cal)
    if planned is not None and planned >= today:
        # A date was picked: quiet until then, and on the day one reminder to start.
        if planned > today:
            return NudgeState(due, None, None, today, report_due)
        name = f"{STAGE_PLANNED}{planned:%Y%m%d}"
        return NudgeState(due, nudge_key(group.id, due.on, name), name, today, report_due)
    snoozed = group.snoozed_until is not None and group.snoozed_until > today
    stage = None if snoozed else stage_for(due, today, rules, cal.working_day_on_or_after)
    if stage is None:
        return NudgeState(due, None, None, today, report_due)
    return NudgeState(due, nudge_key(group.id, due.on, stage.name), stage.name, today, report_due)


def planned_day(group: CoreGroup, cal: WorkCalendar) -> date | None:
    """The picked date, moved to a working day (the channel is never nudged at weekends)."""
    return cal.working_day_on_or_after(group.planned_on) if group.planned_on else None


def next_check(group: CoreGroup, state: NudgeState, cal: WorkCalendar, rules: Rules) -> date:
    """The next local date on which :func:`decide` could answer differently, with the group's
    inputs unchanged: a stage day, the end of nudging, the report window, a snooze running out,
    or (registration anchor) an occurrence's date or the start of its nudging. Anything earlier
    is harmless (one more check); anything later would lose a nudge, hence the property test."""
    today = state.today
    days = [today + RECHECK_AT_LEAST_EVERY]
    if group.snoozed_until is not None:
        days.append(group.snoozed_until)
    planned = planned_day(group, cal)
    if planned is not None:
        days += [planned, planned + timedelta(days=1)]
    if state.due is None:
        return min(day for day in days if day > today)
    base = base_date(group)
    if group.schedule_anchor != ANCHOR_LAST_HELD and base is not None:
        # Which occurrence is current moves on an occurrence's date and when its nudging starts.
        for k in range(state.due.occurrence + 2):
            on = add_months(base[0], rules.first_months + k * rules.every_months)
            days += [on, on - timedelta(days=rules.lead_days)]
    due = state.due
    roll = cal.working_day_on_or_after
    stages = nudge_stages(due, rules, roll)
    days += [stage.day for stage in stages]
    days.append(stages[-1].day + timedelta(days=rules.overdue_every_days))
    days.append(roll(due.on + timedelta(days=rules.report_after_days)))
    days.append(due.on + timedelta(days=rules.last_overdue_day + 8))
    return min(day for day in days if day > today)


async def nudge_state(
    s: AsyncSession, group: CoreGroup, cal: WorkCalendar, now: datetime, rules: Rules
) -> NudgeState:
    """One group's state (sending time, tests); the planner batches the same lookups."""
    today = cal.local_date(now)
    under_way = group.id is not None and group.id in await _open_groups(s, [group.id])
    return decide(group, await _held(s, group, cal), under_way, cal, today, rules)


async def _plan_nudges(
    s: AsyncSession, orgs: _Orgs, now: datetime, rules: Rules, *, dry_run: bool
) -> list[Planned]:
    checking: list[tuple[CoreGroup, Organisation, WorkCalendar, date]] = []
    for group in await _groups_to_check(s, now):
        org = await orgs.get(group.org_id)
        if org is None or group.id is None:
            continue
        cal = calendar_for(org)
        today = cal.local_date(now)
        if group.next_check_on is not None and group.next_check_on > today:
            continue  # still tomorrow in this organisation's time zone
        checking.append((group, org, cal, today))
    ids = [group.id for group, *_ in checking if group.id is not None]
    closed = await _closed_at_by_group(s, ids)
    under_way = await _open_groups(s, ids)
    out: list[Planned] = []
    keep: dict[int, str] = {}
    officers: dict[int, list[StaffRole]] = {}
    bookmarks: dict[date, list[int]] = {}
    for group, org, cal, today in checking:
        assert group.id is not None
        held = held_dates(group, [cal.local_date(at) for at in closed.get(group.id, [])])
        state = decide(group, held, group.id in under_way, cal, today, rules)
        bookmarks.setdefault(next_check(group, state, cal, rules), []).append(group.id)
        if state.due is None:
            continue
        when = cal.next_open(now)
        if state.stage_key:
            keep[group.id] = state.stage_key
            out.append(Planned(state.stage_key, org.id or 0, KIND_NUDGE, when, group_id=group.id))
        if state.report_due:
            if group.org_id not in officers:
                officers[group.org_id] = await _lead_officers(s, org)
            for officer in officers[group.org_id]:
                key = report_key(group.id, state.due.on, officer.id or 0)
                out.append(Planned(key, org.id or 0, KIND_REPORT, when, group_id=group.id))
    if not dry_run:
        await _cancel_outdated_nudges(s, ids, keep)
        for day, group_ids in bookmarks.items():
            for chunk in _chunks(group_ids):
                await s.exec(
                    update(CoreGroup)
                    .where(col(CoreGroup.id).in_(chunk))
                    .values(next_check_on=day)
                    .execution_options(synchronize_session=False)
                )
    return out


async def _cancel_outdated_nudges(s: AsyncSession, ids: list[int], keep: dict[int, str]) -> None:
    """Unsent nudges of the checked groups that are no longer today's: one UPDATE a chunk
    (keys name their group, so one list of keys to keep serves the whole chunk)."""
    for chunk in _chunks(ids):
        mine = [keep[gid] for gid in chunk if gid in keep]
        await s.exec(
            update(Delivery)
            .where(
                col(Delivery.group_id).in_(chunk),
                col(Delivery.kind) == KIND_NUDGE,
                col(Delivery.status) == ledger.PENDING,
                col(Delivery.key).not_in(mine),
            )
            .values(status=ledger.CANCELLED)
            .execution_options(synchronize_session=False)
        )


async def _lead_officers(s: AsyncSession, org: Organisation) -> list[StaffRole]:
    rows = await s.exec(
        select(StaffRole).where(
            col(StaffRole.org_id) == org.id, col(StaffRole.role) == OrgRole.LEAD_OFFICER
        )
    )
    return list(rows)


def reminder_times(session: ReflectionSession, cal: WorkCalendar) -> list[datetime]:
    """When members are reminded: working days after opening, in office hours, and never in
    the last hour before the session closes (the last one is pulled forward instead)."""
    times = [cal.add_working_days_at(session.opened_at, n) for n in REMINDER_WORKING_DAYS]
    if session.closes_at is None:
        return times
    last_chance = _last_office_moment(cal, session.closes_at - 2 * LAST_CHANCE_BEFORE_CLOSE)
    out: list[datetime] = []
    for at in times:
        at = min(at, last_chance)
        if at > session.opened_at and (not out or at > out[-1]):
            out.append(at)
    return out


def _last_office_moment(cal: WorkCalendar, instant: datetime) -> datetime:
    """``instant`` if the office is open then, else half an hour before the office last closed."""
    if cal.is_open(instant):
        return instant
    here = cal.local(instant)
    day = here.date()
    if not (cal.is_working_day(day) and here.time() >= cal.closes):
        day = cal.working_day_on_or_before(day - timedelta(days=1))
    return cal.at(day, cal.closes) - timedelta(minutes=30)


async def _plan_reminders(s: AsyncSession, orgs: _Orgs, now: datetime) -> list[Planned]:
    out: list[Planned] = []
    sessions = await s.exec(
        select(ReflectionSession, CoreGroup)
        .join(CoreGroup, col(CoreGroup.id) == col(ReflectionSession.group_id))
        .where(
            col(ReflectionSession.status) == SessionStatus.OPEN,
            col(CoreGroup.status) == GroupStatus.ACTIVE,
        )
    )
    for session, group in list(sessions):
        org = await orgs.get(group.org_id)
        if org is None or session.id is None:
            continue
        cal = calendar_for(org)
        if session.closes_at is not None and now >= session.closes_at - LAST_CHANCE_BEFORE_CLOSE:
            continue
        came = [n for n, at in enumerate(reminder_times(session, cal), start=1) if at <= now]
        if not came:
            continue
        n = came[-1]
        today = cal.local_date(now)
        for member in await _outstanding(s, session.id):
            if member.id is None or _on_leave(member, today):
                continue
            out.append(
                Planned(
                    remind_key(session.id, member.id, n),
                    org.id or 0,
                    KIND_REMIND,
                    cal.next_open(now),
                    group_id=group.id,
                    session_id=session.id,
                    member_id=member.id,
                )
            )
    return out


def _on_leave(member: Member, today: date) -> bool:
    return member.on_leave_until is not None and member.on_leave_until >= today


def action_days(due_on: date, cal: WorkCalendar) -> list[tuple[str, date]]:
    """Two working days before an action is due, and on the day (the working day before a
    due date that falls on a weekend or bank holiday)."""
    return [
        ("before", cal.add_working_days(due_on, -ACTION_DAYS_BEFORE)),
        ("due", cal.working_day_on_or_before(due_on)),
    ]


async def _plan_actions(s: AsyncSession, orgs: _Orgs, now: datetime) -> list[Planned]:
    out: list[Planned] = []
    today = now.date()
    rows = await s.exec(
        select(ActionItem, CoreGroup, Member)
        .join(CoreGroup, col(CoreGroup.id) == col(ActionItem.group_id))
        .join(Member, col(Member.id) == col(ActionItem.owner_member_id))
        .where(
            col(ActionItem.status) == ActionStatus.OPEN,
            col(ActionItem.due_on).between(today - timedelta(days=1), today + timedelta(days=12)),
            col(CoreGroup.status) == GroupStatus.ACTIVE,
            col(Member.active) == True,  # noqa: E712
        )
    )
    for action, group, member in list(rows):
        org = await orgs.get(group.org_id)
        if org is None or action.id is None or action.due_on is None:
            continue
        cal = calendar_for(org)
        local_today = cal.local_date(now)
        if local_today > action.due_on or _on_leave(member, local_today):
            continue
        came = [name for name, day in action_days(action.due_on, cal) if day <= local_today]
        if not came:
            continue
        out.append(
            Planned(
                action_key(action.id, came[-1]),
                org.id or 0,
                KIND_ACTION,
                cal.next_open(now),
                group_id=group.id,
                action_id=action.id,
                member_id=member.id,
            )
        )
    return out


# ---- who has not answered ----------------------------------------------------------------------


async def _outstanding(s: AsyncSession, session_id: int) -> list[Member]:
    rows = await s.exec(
        select(Member)
        .join(Participation, col(Participation.member_id) == col(Member.id))
        .where(
            col(Participation.session_id) == session_id,
            col(Participation.state) != ParticipationState.DONE,
            col(Member.active) == True,  # noqa: E712
        )
        .order_by(col(Member.display_name), col(Member.id))
    )
    return list(rows)


async def outstanding(core: Core, session_id: int) -> list[Member]:
    """Members of an open session who have not submitted yet (for the facilitator's view)."""
    async with core.db.read() as s:
        return await _outstanding(s, session_id)


# ---- snooze ------------------------------------------------------------------------------------


async def snooze(core: Core, actor: Actor, group_id: int) -> list[Intent]:
    """ "Snooze a week": no nudges for this group for seven days. Facilitator only."""
    async with core.db.write() as s:
        org = await find_org(s, actor)
        if org is None:
            raise NotFound()
        group = await group_by_id(s, org, group_id)
        await require_facilitator(s, group, actor, "snooze these reminders")
        cal = calendar_for(org)
        today = cal.local_date(core.now())
        group.snoozed_until = today + timedelta(days=SNOOZE_DAYS)
        s.add(group)
        await ledger.cancel_pending(s, kind=KIND_NUDGE, group_id=group_id)
        back_on = cal.working_day_on_or_after(group.snoozed_until)
        lang = await language_for(s, org, actor.user_id)
    return [Reply(plain(t("nudge.snoozed", lang, date=short_date(back_on, today, lang))))]


# ---- rendering at send time -------------------------------------------------------------------


@dataclass(frozen=True)
class Send:
    """Deliver these intents; ``pace_key`` groups sends that share a platform rate limit."""

    platform: str
    org_external_id: str
    pace_key: str
    intents: list[Intent]


@dataclass(frozen=True)
class Later:
    """Not now (outside office hours, one nudge a day already sent); try again at ``at``."""

    at: datetime
    why: str


@dataclass(frozen=True)
class Drop:
    """No longer applies (date moved, session closed, member on leave…)."""

    why: str


Decision = Send | Later | Drop


async def render(
    core: Core, row: Delivery, now: datetime | None = None, rules: Rules = DEFAULT_RULES
) -> Decision:
    """Decide, as a claimed row is about to go out, whether it still applies and what to say."""
    now = now or core.now()
    async with core.db.read() as s:
        org = await s.get(Organisation, row.org_id)
        if org is None:
            return Drop("organisation gone")
        cal = calendar_for(org)
        if not cal.is_open(now):
            return Later(cal.next_open(now), "outside office hours")
        if row.kind == KIND_NUDGE:
            return await _render_nudge(s, org, cal, row, now, rules)
        if row.kind == KIND_REPORT:
            return await _render_report(s, org, cal, row, now, rules)
        if row.kind == KIND_REMIND:
            return await _render_reminder(core, s, org, cal, row, now)
        if row.kind == KIND_ACTION:
            return await _render_action(s, org, cal, row, now)
        if row.kind == "digest":
            from handlers.digest import render_digest

            return await render_digest(core, org, row)
    return Drop(f"unknown kind {row.kind}")


async def _facilitator(s: AsyncSession, group: CoreGroup, lang: str) -> Mention:
    member = (
        await s.exec(
            select(Member).where(
                col(Member.group_id) == group.id, col(Member.user_id) == group.facilitator_id
            )
        )
    ).first()
    return Mention(
        group.facilitator_id, member.display_name if member else t("nudge.the_facilitator", lang)
    )


async def _render_nudge(
    s: AsyncSession,
    org: Organisation,
    cal: WorkCalendar,
    row: Delivery,
    now: datetime,
    rules: Rules,
) -> Decision:
    group = await s.get(CoreGroup, row.group_id) if row.group_id else None
    if group is None or group.id is None:
        return Drop("group gone")
    state = await nudge_state(s, group, cal, now, rules)
    if state.due is None or state.stage_key != row.key:
        return Drop("superseded")
    if await _nudged_today(s, group.id, cal, now):
        next_day = cal.working_day_on_or_after(state.today + timedelta(days=1))
        return Later(cal.opening(next_day), "one nudge a day")
    lang = org_language(org)  # a channel post: the organisation's language
    facilitator = await _facilitator(s, group, lang)
    planned = (state.stage_name or "").startswith(STAGE_PLANNED)
    message = nudge_message(group, state.due, state.today, facilitator, rules, lang, planned)
    return Send(
        org.platform,
        org.external_id,
        f"channel:{group.channel_id}",
        [Post(group.channel_id, message)],
    )


async def _nudged_today(s: AsyncSession, group_id: int, cal: WorkCalendar, now: datetime) -> bool:
    today = cal.local_date(now)
    since = cal.at(today, datetime.min.time())
    row = (
        await s.exec(
            select(Delivery.id).where(
                col(Delivery.kind) == KIND_NUDGE,
                col(Delivery.group_id) == group_id,
                col(Delivery.status).in_((ledger.SENT, ledger.UNCONFIRMED)),  # may have arrived
                col(Delivery.sent_at) >= since,
            )
        )
    ).first()
    return row is not None


def nudge_message(
    group: CoreGroup,
    due: Due,
    today: date,
    facilitator: Mention,
    rules: Rules = DEFAULT_RULES,
    lang: str = "en",
    planned: bool = False,
) -> Message:
    """ "Core group supervision for AB-1234 is due on Mon 4 Jan (3 months after registration).
    @RO, start it with /reflect or pick a date." On a picked date: "… is planned for today." """
    gid = str(group.id)
    start = Button(
        t("nudge.start_now", lang),
        START_ACTION,
        gid,
        style="primary",
        spoken=t("nudge.start_now_spoken", lang),
    )
    pick = Button(t("nudge.pick_date", lang), PLAN_ACTION, gid)
    if planned:
        lead = t_spans("nudge.planned_today", lang, child_ref=Strong(group.child_ref))
        ask = t_spans("nudge.ask_planned", lang, facilitator=facilitator)
        buttons = Buttons((start, pick))
    else:
        said = {
            "child_ref": Strong(group.child_ref),
            "due_on": short_date(due.on, today, lang),
            "reason": due.because(rules, lang),
        }
        if due.on > today:
            lead = t_spans("nudge.due_on", lang, **said)
        elif due.on == today:
            lead = t_spans("nudge.due_today", lang, **said)
        else:
            lead = t_spans("nudge.overdue", lang, **said, days=(today - due.on).days)
        ask = t_spans("nudge.ask", lang, facilitator=facilitator)
        snooze = Button(
            t("nudge.snooze", lang), SNOOZE_ACTION, gid, spoken=t("nudge.snooze_spoken", lang)
        )
        buttons = Buttons((start, pick, snooze))
    text = f"{spans_text(lead)} {spans_text(ask)}"
    return Message(text=text, blocks=(Paragraph(lead), Paragraph(ask), buttons))


async def _render_report(
    s: AsyncSession,
    org: Organisation,
    cal: WorkCalendar,
    row: Delivery,
    now: datetime,
    rules: Rules,
) -> Decision:
    group = await s.get(CoreGroup, row.group_id) if row.group_id else None
    if group is None or group.id is None:
        return Drop("group gone")
    staff_role_id = int(row.key.rsplit(":", 1)[1])
    officer = await s.get(StaffRole, staff_role_id)
    if officer is None or officer.org_id != org.id or officer.role != OrgRole.LEAD_OFFICER:
        return Drop("no longer a lead officer")
    state = await nudge_state(s, group, cal, now, rules)
    if (
        state.due is None
        or not state.report_due
        or not row.key.startswith(f"{KIND_REPORT}:{group.id}:{state.due.on.isoformat()}:")
    ):
        return Drop("superseded")
    days = (state.today - state.due.on).days
    lang = await language_for(s, org, officer.user_id)
    message = report_message(group.id, days, await _facilitator(s, group, lang), lang)
    return Send(
        org.platform, org.external_id, f"user:{officer.user_id}", [Direct(officer.user_id, message)]
    )


def report_message(
    group_id: int, days_overdue: int, facilitator: Mention, lang: str = "en"
) -> Message:
    """For the Lead Officer: which group, how late, who facilitates. Never the child."""
    spans = t_spans(
        "nudge.lead_report", lang, group_id=group_id, days=days_overdue, facilitator=facilitator
    )
    return Message(text=spans_text(spans), blocks=(Paragraph(spans),))


async def _render_reminder(
    core: Core, s: AsyncSession, org: Organisation, cal: WorkCalendar, row: Delivery, now: datetime
) -> Decision:
    session = await s.get(ReflectionSession, row.session_id) if row.session_id else None
    member = await s.get(Member, row.member_id) if row.member_id else None
    if session is None or member is None or session.id is None or member.id is None:
        return Drop("session or member gone")
    if session.status != SessionStatus.OPEN:
        return Drop("session closed")
    if session.closes_at is not None and now >= session.closes_at - LAST_CHANCE_BEFORE_CLOSE:
        return Drop("session closing")
    group = await s.get(CoreGroup, session.group_id)
    if group is None or group.status != GroupStatus.ACTIVE:
        return Drop("group ended")
    part = (
        await s.exec(
            select(Participation).where(
                col(Participation.session_id) == session.id,
                col(Participation.member_id) == member.id,
            )
        )
    ).first()
    if part is None or part.state == ParticipationState.DONE or not member.active:
        return Drop("answered")
    if _on_leave(member, cal.local_date(now)):
        return Drop("on leave")
    n = int(row.key.rsplit(":", 1)[1])
    left = None
    if n >= len(REMINDER_WORKING_DAYS):
        left = await _what_is_left(core, s, session, member.id)
    lang = await language_for(s, org, member.user_id)
    deadline = _deadline(session, cal, cal.local_date(now), lang)
    message = reminder_message(group.child_ref, part, deadline, left, lang)
    return Send(
        org.platform,
        org.external_id,
        f"user:{member.user_id}",
        [Direct(member.user_id, message, remember_as=f"dlg:{part.id}")],
    )


async def _what_is_left(
    core: Core, s: AsyncSession, session: ReflectionSession, member_id: int
) -> tuple[int, int]:
    """Questions not yet answered, and about how many minutes they take."""
    try:
        qset = core.sets.get(session.set_id)
    except KeyError:
        return 0, 0
    answered = set(
        await s.exec(
            select(Answer.question_id).where(
                col(Answer.session_id) == session.id, col(Answer.member_id) == member_id
            )
        )
    )
    left = sum(1 for q in qset.questions_for(None) if q.id not in answered)
    return left, minutes_left(qset, left)


def _deadline(session: ReflectionSession, cal: WorkCalendar, today: date, lang: str) -> str:
    if session.closes_at is None:
        return ""
    local = cal.local(session.closes_at)
    return f"{short_date(local.date(), today, lang)} {local:%H:%M}"


def _count(n: int, one: str, many: str, lang: str) -> str:
    """'1 question' / '3 questions' in ``lang`` (Welsh keeps the noun singular after a number)."""
    return t(one, lang) if n == 1 else t(many, lang, n=n)


def reminder_message(
    child_ref: str,
    part: Participation,
    deadline: str,
    left: tuple[int, int] | None,
    lang: str = "en",
) -> Message:
    """A gentle DM. The last one is personal: how much is left and roughly how long."""
    pid = str(part.id)
    if deadline:
        lead = t_spans("reminder.open_until", lang, child_ref=Strong(child_ref), closes_at=deadline)
    else:
        lead = t_spans("reminder.still_open", lang, child_ref=Strong(child_ref))
    blocks: list[Any] = [Paragraph(lead)]
    questions_left, minutes = left if left is not None else (None, 0)
    if questions_left is not None and questions_left > 0:
        nudge = t(
            "reminder.left",
            lang,
            questions=_count(questions_left, "count.question_one", "count.questions", lang),
            minutes=_count(minutes, "count.minute_one", "count.minutes", lang),
        )
    elif questions_left == 0:
        nudge = t("reminder.all_there", lang)
    else:
        nudge = t("reminder.why_it_matters", lang)
    blocks.append(Paragraph((nudge,)))
    if part.state == ParticipationState.REVIEWING or questions_left == 0:
        button = Button(t("reminder.review_submit", lang), "dlg.review", pid, style="primary")
    else:
        not_begun = part.state in (ParticipationState.INVITED, ParticipationState.DEFERRED)
        label, spoken = (
            ("reminder.start", "reminder.start_spoken")
            if not_begun
            else ("reminder.carry_on", "reminder.carry_on_spoken")
        )
        button = Button(t(label, lang), "dlg.start", pid, style="primary", spoken=t(spoken, lang))
    blocks.append(Buttons((button,)))
    if questions_left is not None:
        blocks.append(Context((Quiet(t("reminder.last", lang)),)))
    text = f"{spans_text(lead)} {nudge}"
    return Message(text=text, blocks=tuple(blocks))


async def _render_action(
    s: AsyncSession, org: Organisation, cal: WorkCalendar, row: Delivery, now: datetime
) -> Decision:
    action = await s.get(ActionItem, row.action_id) if row.action_id else None
    if action is None or action.status != ActionStatus.OPEN or action.due_on is None:
        return Drop("action done or gone")
    member = await s.get(Member, action.owner_member_id) if action.owner_member_id else None
    group = await s.get(CoreGroup, action.group_id)
    if member is None or not member.active or group is None:
        return Drop("no owner")
    today = cal.local_date(now)
    if today > action.due_on or _on_leave(member, today):
        return Drop("past due or on leave")
    stage = row.key.rsplit(":", 1)[1]
    if dict(action_days(action.due_on, cal)).get(stage) is None:
        return Drop("unknown stage")
    lang = await language_for(s, org, member.user_id)
    message = action_message(group.child_ref, action, today, lang)
    return Send(
        org.platform, org.external_id, f"user:{member.user_id}", [Direct(member.user_id, message)]
    )


def action_message(child_ref: str, action: ActionItem, today: date, lang: str = "en") -> Message:
    assert action.due_on is not None
    if action.due_on == today:
        lead = t_spans("reminder.action_today", lang, child_ref=Strong(child_ref))
    else:
        when = short_date(action.due_on, today, lang)
        lead = t_spans("reminder.action_on", lang, child_ref=Strong(child_ref), date=when)
    return Message(
        text=f"{spans_text(lead)} {action.text}",
        blocks=(Paragraph(lead), Context((Quiet(action.text),))),
    )


# ---- housekeeping used by the scheduler ------------------------------------------------------


async def cancel_group_nudges(core: Core, group_id: int) -> int:
    """Cancel a group's unsent nudges (its dates changed or its plan ended)."""
    async with core.db.write() as s:
        return await ledger.cancel_pending(s, kind=KIND_NUDGE, group_id=group_id)


def describe(row: Delivery | Planned) -> str:
    """How a ledger row is shown to operators: kind and ids, never a child or a name."""
    ids = [
        f"{name}={value}"
        for name, value in (
            ("org", row.org_id),
            ("group", row.group_id),
            ("session", row.session_id),
            ("member", row.member_id),
            ("action", row.action_id),
        )
        if value is not None
    ]
    return f"{row.kind} {' '.join(ids)} key={row.key}"


def to_delivery(p: Planned) -> Delivery:
    """A planned row as an unsaved ledger row (dry runs render these)."""
    return Delivery(**p.values())
