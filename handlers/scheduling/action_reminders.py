"""Action reminders: an action's owner hears by DM two working days before its due date and on
the day (the working day before, when it falls on a weekend or bank holiday).

When they come due (:func:`action_days`, :func:`plan`) and what they say (:func:`render`,
:func:`action_message`) live together here.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import col, select

from handlers.base.buttons import ACTION_DONE, ACTION_NOT_YET
from handlers.base.i18n import language_for
from handlers.base.messages import (
    Button,
    Buttons,
    Context,
    Direct,
    Message,
    Paragraph,
    Quiet,
    Strong,
    spans_text,
)
from handlers.base.wording import t_spans
from handlers.scheduling.calendar import WorkCalendar
from handlers.scheduling.deliveries import (
    Decision,
    DeliveryKind,
    Drop,
    Outgoing,
    PlanningPass,
    Send,
    calendar_for,
    on_leave,
    short_date,
)
from prompts.strings import t
from storage.ledger import Planned
from storage.models import ActionItem, ActionStatus, CoreGroup, GroupStatus, Member

KIND_ACTION = "action"
ACTION_DAYS_BEFORE = 2  # working days


def action_key(action_id: int, stage: str) -> str:
    return f"{KIND_ACTION}:{action_id}:{stage}"


def action_days(due_on: date, cal: WorkCalendar) -> list[tuple[str, date]]:
    """Two working days before an action is due, and on the day (the working day before a
    due date that falls on a weekend or bank holiday)."""
    return [
        ("before", cal.add_working_days(due_on, -ACTION_DAYS_BEFORE)),
        ("due", cal.working_day_on_or_before(due_on)),
    ]


async def plan(run: PlanningPass) -> list[Planned]:
    """The latest reminder come due for each open action of an active owner."""
    now = run.now
    out: list[Planned] = []
    today = now.date()
    rows = await run.s.exec(
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
        org = await run.org(group.org_id)
        if org is None or action.id is None or action.due_on is None:
            continue
        cal = calendar_for(org)
        local_today = cal.local_date(now)
        if local_today > action.due_on or on_leave(member, local_today):
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


async def render(out: Outgoing) -> Decision:
    """Still open, not yet past due, the owner active and not on leave: the DM."""
    s, org, cal, row = out.s, out.org, out.cal, out.row
    action = await s.get(ActionItem, row.action_id) if row.action_id else None
    if action is None or action.status != ActionStatus.OPEN or action.due_on is None:
        return Drop("action done or gone")
    member = await s.get(Member, action.owner_member_id) if action.owner_member_id else None
    group = await s.get(CoreGroup, action.group_id)
    if member is None or not member.active or group is None or group.status != GroupStatus.ACTIVE:
        return Drop("no owner")
    today = cal.local_date(out.now)
    if today > action.due_on or on_leave(member, today):
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
    done = Button(
        t("actions.done", lang),
        ACTION_DONE,
        str(action.id),
        "primary",
        t("actions.done_spoken", lang),
    )
    later = Button(
        t("actions.not_yet", lang),
        ACTION_NOT_YET,
        str(action.id),
        spoken=t("actions.not_yet_spoken", lang),
    )
    return Message(
        text=f"{spans_text(lead)} {action.text}",
        blocks=(Paragraph(lead), Context((Quiet(action.text),)), Buttons((done, later))),
    )


KIND = DeliveryKind(KIND_ACTION, plan=plan, render=render)
