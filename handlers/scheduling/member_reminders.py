"""Reminders by DM to members who have not finished an open reflection: two, then a third that
says what is left, then nothing more; never in the last hour before the session closes.

When they come due (:func:`reminder_times`, :func:`plan`) and what they say (:func:`render`,
:func:`reminder_message`) live together here.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.base.core import Core
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
from handlers.base.wording import minutes_left, t_spans
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
from storage.models import (
    Answer,
    CoreGroup,
    GroupStatus,
    Member,
    Participation,
    ParticipationState,
    ReflectionSession,
    SessionStatus,
)

# Finished, away (not asked) or gone: no reminder.
NOT_REMINDED = (ParticipationState.DONE, ParticipationState.AWAY, ParticipationState.LEFT)

KIND_REMIND = "remind"
REMINDER_WORKING_DAYS = (1, 2, 3)  # after the session opened; the third is the personal one
LAST_CHANCE_BEFORE_CLOSE = timedelta(hours=1)


def remind_key(session_id: int, member_id: int, n: int) -> str:
    return f"{KIND_REMIND}:{session_id}:{member_id}:{n}"


# ---- is it due ---------------------------------------------------------------------------------


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


def _closing_soon(session: ReflectionSession, now: datetime) -> bool:
    return session.closes_at is not None and now >= session.closes_at - LAST_CHANCE_BEFORE_CLOSE


async def plan(run: PlanningPass) -> list[Planned]:
    """The latest reminder come due for each outstanding member of each open session."""
    s, now = run.s, run.now
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
        org = await run.org(group.org_id)
        if org is None or session.id is None or _closing_soon(session, now):
            continue
        cal = calendar_for(org)
        came = [n for n, at in enumerate(reminder_times(session, cal), start=1) if at <= now]
        if not came:
            continue
        today = cal.local_date(now)
        for member in await _outstanding(s, session.id):
            if member.id is None or on_leave(member, today):
                continue
            out.append(
                Planned(
                    remind_key(session.id, member.id, came[-1]),
                    org.id or 0,
                    KIND_REMIND,
                    cal.next_open(now),
                    group_id=group.id,
                    session_id=session.id,
                    member_id=member.id,
                )
            )
    return out


async def _outstanding(s: AsyncSession, session_id: int) -> list[Member]:
    rows = await s.exec(
        select(Member)
        .join(Participation, col(Participation.member_id) == col(Member.id))
        .where(
            col(Participation.session_id) == session_id,
            col(Participation.state).not_in(NOT_REMINDED),
            col(Member.active) == True,  # noqa: E712
        )
        .order_by(col(Member.display_name), col(Member.id))
    )
    return list(rows)


async def outstanding(core: Core, session_id: int) -> list[Member]:
    """Members of an open session who have not submitted yet (for the facilitator's view)."""
    async with core.db.read() as s:
        return await _outstanding(s, session_id)


# ---- what it says ------------------------------------------------------------------------------


async def render(out: Outgoing) -> Decision:
    """Still open, still not submitted, not on leave: the DM (the last one says what is left)."""
    s, org, cal, row, now = out.s, out.org, out.cal, out.row, out.now
    session = await s.get(ReflectionSession, row.session_id) if row.session_id else None
    member = await s.get(Member, row.member_id) if row.member_id else None
    if session is None or member is None or session.id is None or member.id is None:
        return Drop("session or member gone")
    if session.status != SessionStatus.OPEN:
        return Drop("session closed")
    if _closing_soon(session, now):
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
    if part is None or part.state in NOT_REMINDED or not member.active:
        return Drop("answered")
    if on_leave(member, cal.local_date(now)):
        return Drop("on leave")
    n = int(row.key.rsplit(":", 1)[1])
    left = None
    if n >= len(REMINDER_WORKING_DAYS):
        left = await _what_is_left(out.core, s, session, member.id)
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
    blocks.append(Buttons((_carry_on_button(part, questions_left, lang),)))
    if questions_left is not None:
        blocks.append(Context((Quiet(t("reminder.last", lang)),)))
    text = f"{spans_text(lead)} {nudge}"
    return Message(text=text, blocks=tuple(blocks))


def _carry_on_button(part: Participation, questions_left: int | None, lang: str) -> Button:
    """Review and submit when all is answered, else start or carry on."""
    pid = str(part.id)
    if part.state == ParticipationState.REVIEWING or questions_left == 0:
        return Button(t("reminder.review_submit", lang), "dlg.review", pid, style="primary")
    not_begun = part.state in (ParticipationState.INVITED, ParticipationState.DEFERRED)
    label, spoken = (
        ("reminder.start", "reminder.start_spoken")
        if not_begun
        else ("reminder.carry_on", "reminder.carry_on_spoken")
    )
    return Button(t(label, lang), "dlg.start", pid, style="primary", spoken=t(spoken, lang))


KIND = DeliveryKind(KIND_REMIND, plan=plan, render=render)
