""" "Pick a date": the facilitator says when the group will meet, and the nudges wait for it.

From a nudge's *Pick a date* button (a one-field form) or ``/reflect plan 2026-05-12`` in the
group's channel. The channel is told the date; until then it hears nothing about this
supervision, and on the day it gets one reminder to start (``channel_nudges.nudge_stage``).
If the day passes without a session, the usual overdue nudges come back.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.base import audit
from handlers.base.access import ensure_org, group_by_id, group_for_channel, require_facilitator
from handlers.base.core import Core
from handlers.base.errors import BadInput, Conflict
from handlers.base.events import Actor
from handlers.base.i18n import language_for, org_language
from handlers.base.messages import (
    Form,
    FormField,
    Intent,
    Message,
    OpenForm,
    Paragraph,
    Post,
    Strong,
    spans_text,
)
from handlers.base.wording import t_spans
from handlers.scheduling.channel_nudges import cancel_pending_nudges
from handlers.scheduling.deliveries import calendar_for, short_date
from handlers.scheduling.due import DEFAULT_RULES
from handlers.scheduling.group_state import supervision_state
from prompts.strings import t
from storage.models import CoreGroup, GroupStatus, Organisation

PLAN_FORM = "schedule.plan"
FURTHEST_AHEAD = timedelta(days=366)  # a supervision is due at most every six months


async def _group(
    s: AsyncSession, core: Core, actor: Actor, group_id: int | None, channel: str | None
) -> tuple[Organisation, CoreGroup]:
    org = await ensure_org(s, core, actor)
    if group_id is not None:
        group = await group_by_id(s, org, group_id)
    else:
        group = await group_for_channel(s, org, channel)
    await require_facilitator(s, group, actor, "plan this supervision")
    if group.status == GroupStatus.ENDED:
        raise Conflict(key="errors.plan_ended")
    return org, group


async def open_plan_form(
    core: Core, actor: Actor, group_id: int | None = None, channel: str | None = None
) -> list[Intent]:
    """The *Pick a date* form, starting at the date already picked or the due date."""
    async with core.db.read() as s:
        org, group = await _group(s, core, actor, group_id, channel)
        cal = calendar_for(org)
        state = await supervision_state(s, group, cal, core.now(), DEFAULT_RULES)
        today = state.today
        lang = await language_for(s, org, actor.user_id)
    if group.planned_on is not None and group.planned_on >= today:
        initial = group.planned_on
    elif state.due is not None and state.due.on >= today:
        initial = state.due.on
    else:
        initial = today
    field = FormField(
        "on",
        t("plan.label", lang),
        kind="date",
        hint=t("plan.hint", lang),
        initial=initial.isoformat(),
    )
    title = t("plan.title", lang)
    form = Form(PLAN_FORM, title, (field,), state=str(group.id), submit=t("plan.save", lang))
    return [OpenForm(form)]


def _parse_day(raw: object) -> date:
    try:
        return date.fromisoformat(str(raw or "").strip())
    except ValueError:
        raise BadInput(key="errors.plan_date") from None


async def save_plan(
    core: Core,
    actor: Actor,
    raw_day: object,
    group_id: int | None = None,
    channel: str | None = None,
) -> list[Intent]:
    """Keep the picked date, drop the nudges waiting to go out, and tell the channel."""
    day = _parse_day(raw_day)
    now = core.now()
    async with core.db.write() as s:
        org, group = await _group(s, core, actor, group_id, channel)
        cal = calendar_for(org)
        today = cal.local_date(now)
        if day < today:
            raise BadInput(key="errors.plan_in_past")
        if day > today + FURTHEST_AHEAD:
            raise BadInput(key="errors.plan_too_far")
        group.planned_on = day
        s.add(group)
        await cancel_pending_nudges(s, group.id or 0)
        await audit.record(
            s,
            org_id=org.id,
            actor=actor.user_id,
            action="group.planned",
            subject=f"group:{group.id}",
            at=now,
            planned_on=day.isoformat(),
        )
        lang = org_language(org)  # a channel post: the organisation's language
        when = short_date(cal.working_day_on_or_after(day), today, lang)
    said = t_spans("plan.saved", lang, child_ref=Strong(group.child_ref), date=when)
    return [Post(group.channel_id, Message(text=spans_text(said), blocks=(Paragraph(said),)))]


async def plan_command(core: Core, actor: Actor, channel: str | None, rest: str) -> list[Intent]:
    """``/reflect plan`` opens the form; ``/reflect plan 2026-05-12`` picks the date at once."""
    if not rest.strip():
        return await open_plan_form(core, actor, channel=channel)
    return await save_plan(core, actor, rest, channel=channel)
