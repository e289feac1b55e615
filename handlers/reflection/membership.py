"""What a member leaving, going away or coming back means for the group's open session.

The group use cases (``handlers.groups.leaving``, ``handlers.groups.away``) change the member;
the router hands them these functions for the open session, so groups never reach into the
reflection's own rooms.
"""

from __future__ import annotations

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.base.access import open_session
from handlers.base.core import Core
from handlers.base.i18n import language_for
from handlers.base.messages import Direct, Intent, Update, plain, progress_key
from handlers.base.wording import local_deadline
from handlers.reflection.dialogue import dialogue_key
from handlers.reflection.progress import progress_view
from handlers.reflection.screens import invitation
from prompts.strings import t
from storage.models import (
    Answer,
    CoreGroup,
    Member,
    Organisation,
    Participation,
    ParticipationState,
    ReflectionSession,
)

NOT_BEGUN = (ParticipationState.INVITED, ParticipationState.DEFERRED)


async def _open_participation(
    s: AsyncSession, group: CoreGroup, member: Member
) -> tuple[ReflectionSession | None, Participation | None]:
    """The open session, and the member's participation in it."""
    session = await open_session(s, group.id or 0)
    if session is None:
        return None, None
    part = (
        await s.exec(
            select(Participation).where(
                Participation.session_id == session.id, Participation.member_id == member.id
            )
        )
    ).first()
    return session, part


async def end_participation(
    core: Core, s: AsyncSession, group: CoreGroup, member: Member
) -> list[Intent]:
    """Removed before submitting: unsubmitted answers go and they are recorded as "left"."""
    session, part = await _open_participation(s, group, member)
    if session is None or part is None or part.finished_at is not None:
        return []  # what they submitted stays in the record
    await s.exec(
        delete(Answer).where(
            col(Answer.session_id) == session.id, col(Answer.member_id) == member.id
        )
    )
    part.state = ParticipationState.LEFT
    part.pending_question = None
    part.pending_kind = None
    part.attended = False
    part.updated_at = core.now()
    s.add(part)
    await s.flush()
    org = await s.get(Organisation, group.org_id)
    lang = await language_for(s, org, member.user_id)
    return [
        Update(dialogue_key(part.id or 0), plain(t("people.you_left", lang))),
        Update(progress_key(session.id or 0), await progress_view(s, session, group, core)),
    ]


async def pause_participation(
    core: Core, s: AsyncSession, group: CoreGroup, member: Member
) -> list[Intent]:
    """Away before beginning the open session's questions: not reminded, recorded as away."""
    _session, part = await _open_participation(s, group, member)
    if part is not None and part.state in NOT_BEGUN:
        part.state = ParticipationState.AWAY
        s.add(part)
        await s.flush()
    return []


async def invite_again(
    core: Core, s: AsyncSession, group: CoreGroup, member: Member
) -> list[Intent]:
    """Back while a session is open: their invitation comes (back) to their messages."""
    session, part = await _open_participation(s, group, member)
    if session is None or part is None or part.state != ParticipationState.AWAY:
        return []
    part.state = ParticipationState.INVITED
    s.add(part)
    await s.flush()
    org = await s.get(Organisation, group.org_id)
    lang = await language_for(s, org, member.user_id)
    message = invitation(
        core.sets.get(session.set_id, lang),
        group.child_ref,
        local_deadline(session.closes_at, org.timezone if org else group.timezone, lang),
        part.id or 0,
        group.facilitator_id,
        lang=lang,
        role=part.role,
    )
    key = dialogue_key(part.id or 0)
    return [Update(key, message, fallback=Direct(member.user_id, message, remember_as=key))]
