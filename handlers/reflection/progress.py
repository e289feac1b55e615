"""The channel's progress message: who has reflected, never what they said."""

from __future__ import annotations

from datetime import date

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.base.core import Core
from handlers.base.i18n import org_language
from handlers.base.messages import Message
from handlers.base.wording import local_deadline
from handlers.reflection.screens import ProgressRow, progress_message
from handlers.scheduling.deliveries import calendar_for, on_leave, short_date
from prompts.strings import t
from storage.models import (
    CoreGroup,
    Member,
    Organisation,
    Participation,
    ParticipationState,
    ReflectionSession,
)


async def progress_rows(
    s: AsyncSession, session_id: int, today: date | None = None, lang: str = "en"
) -> list[ProgressRow]:
    """Everyone asked, by name; those who left the group are no longer listed."""
    rows = await s.exec(
        select(Participation, Member)
        .join(Member, col(Member.id) == col(Participation.member_id))
        .where(
            Participation.session_id == session_id,
            col(Participation.state) != ParticipationState.LEFT,
        )
        .order_by(col(Member.display_name))
    )
    return [
        ProgressRow(m.user_id, m.display_name, p.finished_at is not None, _note(p, m, today, lang))
        for p, m in rows
    ]


def _note(part: Participation, member: Member, today: date | None, lang: str) -> str:
    """ "away until Mon 4 Jan" for someone on leave who has not answered."""
    if part.finished_at is not None or today is None or not on_leave(member, today):
        return ""
    assert member.on_leave_until is not None
    return t("away.until", lang, date=short_date(member.on_leave_until, today, lang))


async def progress_view(
    s: AsyncSession, session: ReflectionSession, group: CoreGroup, core: Core
) -> Message:
    org = await s.get(Organisation, group.org_id)
    lang = org_language(org)  # the channel reads the organisation's language
    qset = core.sets.get(session.set_id, lang)
    today = calendar_for(org).local_date(core.now())
    rows = await progress_rows(s, session.id or 0, today, lang)
    tz = org.timezone if org else "Europe/London"
    deadline = local_deadline(session.closes_at, tz, lang)
    return progress_message(
        qset.title,
        group.child_ref,
        session.id or 0,
        rows,
        deadline,
        str(session.status),
        lang=lang,
    )
