"""Nudges in the core group's channel when supervision is due: two weeks ahead, on the day,
then weekly while overdue (six at most); on a date the facilitator picked, one reminder to
start instead. Snooze quietens a group for a week.

Everything that decides a nudge is here, so the rules agree: :func:`nudge_stage` (which nudge
the channel should have today), :func:`changes_on` (the days that answer can change, for the
planner's bookmark), :func:`plan` (the ledger rows) and :func:`render` with
:func:`nudge_message` (what goes out, re-checked at sending time).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.base.access import find_org, group_by_id, require_facilitator
from handlers.base.core import Core
from handlers.base.errors import NotFound
from handlers.base.events import Actor
from handlers.base.i18n import language_for, org_language
from handlers.base.messages import (
    Button,
    Buttons,
    Intent,
    Mention,
    Message,
    Paragraph,
    Post,
    Reply,
    Strong,
    plain,
    spans_text,
)
from handlers.base.wording import t_spans
from handlers.scheduling.calendar import WorkCalendar
from handlers.scheduling.deliveries import (
    Decision,
    DeliveryKind,
    Drop,
    Later,
    Outgoing,
    PlanningPass,
    Send,
    SupervisionState,
    calendar_for,
    chunks,
    facilitator_mention,
    short_date,
)
from handlers.scheduling.due import DEFAULT_RULES, Due, Rules, nudge_stages, stage_for
from handlers.scheduling.group_state import checked_groups, supervision_state
from prompts.strings import t
from storage import ledger
from storage.ledger import Planned
from storage.models import CoreGroup, Delivery

KIND_NUDGE = "nudge"

START_ACTION = "reflect.start"
SNOOZE_ACTION = "schedule.snooze"
PLAN_ACTION = "schedule.plan"  # "Pick a date": see handlers/scheduling/planned_date.py
STAGE_PLANNED = "planned"  # + the picked date, so a new date is a new nudge
SNOOZE_DAYS = 7


def nudge_key(group_id: int, due_on: date, stage: str) -> str:
    return f"{KIND_NUDGE}:{group_id}:{due_on.isoformat()}:{stage}"


def planned_day(group: CoreGroup, cal: WorkCalendar) -> date | None:
    """The picked date, moved to a working day (the channel is never nudged at weekends)."""
    return cal.working_day_on_or_after(group.planned_on) if group.planned_on else None


# ---- is it due ---------------------------------------------------------------------------------


def nudge_stage(
    group: CoreGroup, state: SupervisionState, cal: WorkCalendar, rules: Rules
) -> str | None:
    """Pure: the name of the nudge the channel should have today (part of its key), or None."""
    if state.due is None or state.under_way:
        return None  # nothing due, or the supervision is under way: nobody needs telling
    today = state.today
    planned = planned_day(group, cal)
    if planned is not None and planned >= today:
        # A date was picked: quiet until then, and on the day one reminder to start.
        return f"{STAGE_PLANNED}{planned:%Y%m%d}" if planned == today else None
    if group.snoozed_until is not None and group.snoozed_until > today:
        return None
    stage = stage_for(state.due, today, rules, cal.working_day_on_or_after)
    return stage.name if stage is not None else None


def todays_nudge_key(
    group: CoreGroup, state: SupervisionState, cal: WorkCalendar, rules: Rules
) -> str | None:
    """The ledger key of the nudge the channel should have today, or None."""
    name = nudge_stage(group, state, cal, rules)
    if name is None or state.due is None or group.id is None:
        return None
    return nudge_key(group.id, state.due.on, name)


def changes_on(
    group: CoreGroup, state: SupervisionState, cal: WorkCalendar, rules: Rules
) -> list[date]:
    """The days :func:`nudge_stage` can answer differently: a snooze running out, the picked
    day and the day after, each stage's day and the end of nudging."""
    days: list[date] = []
    if group.snoozed_until is not None:
        days.append(group.snoozed_until)
    planned = planned_day(group, cal)
    if planned is not None:
        days += [planned, planned + timedelta(days=1)]
    if state.due is None:
        return days
    stages = nudge_stages(state.due, rules, cal.working_day_on_or_after)
    days += [stage.day for stage in stages]
    days.append(stages[-1].day + timedelta(days=rules.overdue_every_days))
    return days


async def plan(run: PlanningPass) -> list[Planned]:
    """Today's nudge of each group looked at; its other unsent nudges (its date moved, a later
    nudge superseded them) are cancelled in the same transaction."""
    out: list[Planned] = []
    keep: dict[int, str] = {}
    checked = await checked_groups(run)
    for c in checked:
        key = todays_nudge_key(c.group, c.state, c.cal, run.rules)
        if key is None:
            continue
        keep[c.group_id] = key
        when = c.cal.next_open(run.now)
        out.append(Planned(key, c.org.id or 0, KIND_NUDGE, when, group_id=c.group_id))
    if not run.dry_run:
        await _cancel_outdated_nudges(run.s, [c.group_id for c in checked], keep)
    return out


async def _cancel_outdated_nudges(s: AsyncSession, ids: list[int], keep: dict[int, str]) -> None:
    """Unsent nudges of the checked groups that are no longer today's: one UPDATE a chunk
    (keys name their group, so one list of keys to keep serves the whole chunk)."""
    for chunk in chunks(ids):
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


# ---- what it says ------------------------------------------------------------------------------


async def render(out: Outgoing) -> Decision:
    """Still today's nudge, and the channel not nudged yet today: the post."""
    s, org, cal, row, now = out.s, out.org, out.cal, out.row, out.now
    group = await s.get(CoreGroup, row.group_id) if row.group_id else None
    if group is None or group.id is None:
        return Drop("group gone")
    state = await supervision_state(s, group, cal, now, out.rules)
    name = nudge_stage(group, state, cal, out.rules)
    if state.due is None or name is None or nudge_key(group.id, state.due.on, name) != row.key:
        return Drop("superseded")
    if await _nudged_today(s, group.id, cal, now):
        next_day = cal.working_day_on_or_after(state.today + timedelta(days=1))
        return Later(cal.opening(next_day), "one nudge a day")
    lang = org_language(org)  # a channel post: the organisation's language
    facilitator = await facilitator_mention(s, group, lang)
    planned = name.startswith(STAGE_PLANNED)
    message = nudge_message(group, state.due, state.today, facilitator, out.rules, lang, planned)
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


KIND = DeliveryKind(KIND_NUDGE, plan=plan, render=render, changes_on=changes_on)


async def cancel_pending_nudges(s: AsyncSession, group_id: int) -> int:
    """Drop a group's nudges waiting to go out (snoozed, or a date picked)."""
    return await ledger.cancel_pending(s, kind=KIND_NUDGE, group_id=group_id)


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
        await cancel_pending_nudges(s, group_id)
        back_on = cal.working_day_on_or_after(group.snoozed_until)
        lang = await language_for(s, org, actor.user_id)
    return [Reply(plain(t("nudge.snoozed", lang, date=short_date(back_on, today, lang))))]
