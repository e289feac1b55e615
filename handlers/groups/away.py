"""Away: a member on leave gets no invitations or reminders until the date they gave.

    /reflect away until 2026-08-31          for yourself (any member)
    /reflect away @person until 31/8/2026   for someone else (facilitator or admin)
    /reflect back [@person]                 back early

A session opened while someone is away does not ask them, and its record says "away" rather
than "did not take part". Going away while a session is open does the same if they had not
begun; coming back while it is open brings their invitation back.
"""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.base import audit
from handlers.base.access import ensure_org, group_for_channel, member_in
from handlers.base.core import Core
from handlers.base.errors import BadInput, NotFound
from handlers.base.events import Actor
from handlers.base.i18n import language_for
from handlers.base.messages import (
    Intent,
    Mention,
    Message,
    Paragraph,
    Reply,
    Span,
    spans_text,
)
from handlers.base.parsing import parse_date, parse_user, split_person
from handlers.base.wording import t_spans
from handlers.groups.leaving import SessionEffect, require_facilitator_or_admin
from handlers.scheduling.deliveries import calendar_for, short_date
from prompts.strings import t
from storage.models import (
    CoreGroup,
    Member,
    Organisation,
    ParticipationState,
)

NOT_BEGUN = (ParticipationState.INVITED, ParticipationState.DEFERRED)


def parse_away(rest: str) -> tuple[str | None, str]:
    """``[@person] [until] DATE`` -> (the person token or None, the date text)."""
    who: str | None = None
    text = rest.strip()
    if text.startswith(("<@", "@")):
        who, text = split_person(text)
    words = text.split()
    if words and words[0].lower() == "until":
        words = words[1:]
    if len(words) != 1:
        raise BadInput(key="away.usage")
    return who, words[0]


async def _whom(
    s: AsyncSession, org: Organisation, group: CoreGroup, actor: Actor, who: str | None
) -> Member:
    """The member meant: the actor, or (for the facilitator or an admin) someone named."""
    user_id = parse_user(who, "person")[0] if who else actor.user_id
    if user_id != actor.user_id:
        await require_facilitator_or_admin(s, org, group, actor, "away.doing_other")
    member = await member_in(s, group.id or 0, user_id)
    if member is None:
        raise NotFound(key="people.not_in_group")
    return member


def _said(key: str, lang: str, member: Member, **values: object) -> Message:
    spans: tuple[Span, ...] = t_spans(
        key, lang, person=Mention(member.user_id, member.display_name), **values
    )
    return Message(text=spans_text(spans), blocks=(Paragraph(spans),))


async def away(
    core: Core, actor: Actor, channel_id: str | None, rest: str, *, in_session: SessionEffect
) -> list[Intent]:
    """``/reflect away [@person] until DATE``; a date in the past is refused."""
    who, raw = parse_away(rest)
    until = parse_date(raw, "date")
    async with core.db.write() as s:
        org = await ensure_org(s, core, actor)
        group = await group_for_channel(s, org, channel_id)
        member = await _whom(s, org, group, actor, who)
        today = calendar_for(org).local_date(core.now())
        if until < today:
            raise BadInput(key="away.in_past")
        member.on_leave_until = until
        s.add(member)
        intents = await in_session(core, s, group, member)
        await _audit(s, core, org, group, actor, member, "member.away")
        lang = await language_for(s, org, actor.user_id)
    when = short_date(until, today, lang)
    key = "away.set_self" if member.user_id == actor.user_id else "away.set_other"
    return [*intents, Reply(_said(key, lang, member, date=when))]


async def back(
    core: Core, actor: Actor, channel_id: str | None, rest: str, *, in_session: SessionEffect
) -> list[Intent]:
    """``/reflect back [@person]``: invitations and reminders again, from now."""
    who = rest.strip() or None
    async with core.db.write() as s:
        org = await ensure_org(s, core, actor)
        group = await group_for_channel(s, org, channel_id)
        member = await _whom(s, org, group, actor, who)
        lang = await language_for(s, org, actor.user_id)
        today = calendar_for(org).local_date(core.now())
        if member.on_leave_until is None or member.on_leave_until < today:
            return [Reply(Message(text=t("away.not_away", lang)))]
        member.on_leave_until = None
        s.add(member)
        intents = await in_session(core, s, group, member)
        await _audit(s, core, org, group, actor, member, "member.back")
    key = "away.back_self" if member.user_id == actor.user_id else "away.back_other"
    return [*intents, Reply(_said(key, lang, member))]


async def _audit(
    s: AsyncSession,
    core: Core,
    org: Organisation,
    group: CoreGroup,
    actor: Actor,
    member: Member,
    action: str,
) -> None:
    await audit.record(
        s,
        org_id=org.id,
        actor=actor.user_id,
        action=action,
        subject=f"group:{group.id}",
        at=core.now(),
        user=member.user_id,
    )
