"""The channel's progress message: who has reflected, never what they said."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.base.core import Core
from handlers.base.i18n import org_language
from handlers.base.messages import Message
from handlers.base.wording import local_deadline
from handlers.reflection.screens import ProgressRow, progress_message
from storage.models import CoreGroup, Member, Organisation, Participation, ReflectionSession


async def progress_rows(s: AsyncSession, session_id: int) -> list[ProgressRow]:
    rows = await s.exec(
        select(Participation, Member)
        .join(Member, col(Member.id) == col(Participation.member_id))
        .where(Participation.session_id == session_id)
        .order_by(col(Member.display_name))
    )
    return [
        ProgressRow(
            m.user_id,
            m.display_name,
            done=p.finished_at is not None,
            started=p.finished_at is None and p.started_at is not None,
        )
        for p, m in rows
    ]


async def progress_view(
    s: AsyncSession, session: ReflectionSession, group: CoreGroup, core: Core
) -> Message:
    org = await s.get(Organisation, group.org_id)
    lang = org_language(org)  # the channel reads the organisation's language
    qset = core.sets.get(session.set_id, lang)
    rows = await progress_rows(s, session.id or 0)
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
