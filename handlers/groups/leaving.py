"""People leaving a core group: `/reflect remove @person`, and the question to the facilitator
when someone leaves the group's channel (Slack) or team (Teams).

Leaving the channel changes nothing by itself: the facilitator is asked privately, with
**Yes, remove** and **No, keep them**. A removed member gets no more invitations, reminders or
records. If a session is open, what they submitted stays in its record; answers they had not
submitted are deleted and they are recorded as having left the group.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.base import audit
from handlers.base.access import (
    co_facilitators,
    ensure_org,
    find_org,
    group_by_id,
    group_for_channel,
    is_facilitator,
    is_org_admin,
    member_in,
)
from handlers.base.buttons import REMOVE_NO, REMOVE_YES
from handlers.base.core import Core
from handlers.base.errors import BadInput, NotAllowed, NotFound
from handlers.base.events import Actor, Left
from handlers.base.i18n import language_for, org_language
from handlers.base.ids import parse_id
from handlers.base.messages import (
    Button,
    Buttons,
    Direct,
    Intent,
    Mention,
    Message,
    Paragraph,
    Post,
    Reply,
    plain,
    spans_text,
)
from handlers.base.parsing import parse_user, split_person
from handlers.base.wording import t_spans
from prompts.strings import phrase, t
from storage.models import CoreGroup, GroupStatus, Member, Organisation

# What a change of membership means for the open session (``handlers.reflection.membership``),
# handed in by the router: groups do not reach into the reflection's rooms.
SessionEffect = Callable[[Core, AsyncSession, CoreGroup, Member], Awaitable[list[Intent]]]


async def require_facilitator_or_admin(
    s: AsyncSession, org: Organisation, group: CoreGroup, actor: Actor, doing_key: str
) -> None:
    """The facilitator, a co-facilitator or an organisation admin."""
    if is_facilitator(group, actor.user_id, await co_facilitators(s, group.id or 0)):
        return
    if await is_org_admin(s, org, actor.user_id):
        return
    raise NotAllowed(
        key="lifecycle.only_fac_or_admin", mention=group.facilitator_id, doing=phrase(doing_key)
    )


async def remove(
    core: Core, actor: Actor, channel_id: str | None, rest: str, *, in_session: SessionEffect
) -> list[Intent]:
    """``/reflect remove @person``."""
    who, _ = split_person(rest)
    if not who:
        raise BadInput(key="people.remove_usage")
    user_id, _name = parse_user(who, "member")
    async with core.db.write() as s:
        org = await ensure_org(s, core, actor)
        group = await group_for_channel(s, org, channel_id)
        member = await member_in(s, group.id or 0, user_id)
        return await _remove(core, s, org, group, member, actor, in_session)


async def _remove(
    core: Core,
    s: AsyncSession,
    org: Organisation,
    group: CoreGroup,
    member: Member | None,
    actor: Actor,
    in_session: SessionEffect,
) -> list[Intent]:
    await require_facilitator_or_admin(s, org, group, actor, "people.doing_remove")
    if member is None or not member.active:
        raise NotFound(key="people.not_in_group")
    if member.user_id == group.facilitator_id:
        raise NotAllowed(key="people.not_facilitator")
    intents = await leave_group(core, s, group, member, in_session)
    await audit.record(
        s,
        org_id=org.id,
        actor=actor.user_id,
        action="member.removed",
        subject=f"group:{group.id}",
        at=core.now(),
        user=member.user_id,
    )
    lang = org_language(org)
    actor_lang = await language_for(s, org, actor.user_id)
    person = Mention(member.user_id, member.display_name)
    said = t_spans("people.removed", lang, person=person)
    return [
        *intents,
        Post(group.channel_id, Message(text=spans_text(said), blocks=(Paragraph(said),))),
        Reply(plain(t("people.removed_reply", actor_lang))),
    ]


async def leave_group(
    core: Core, s: AsyncSession, group: CoreGroup, member: Member, in_session: SessionEffect
) -> list[Intent]:
    """The member leaves the group; ``in_session`` ends their part in an open session."""
    member.active = False
    member.on_leave_until = None
    s.add(member)
    await s.flush()
    return await in_session(core, s, group, member)


async def someone_left(core: Core, event: Left) -> list[Intent]:
    """Ask each facilitator whose group lives in that conversation whether to remove them."""
    if not event.channel_id or not event.people:
        return []
    intents: list[Intent] = []
    async with core.db.read() as s:
        org = await find_org(s, event.actor)
        if org is None:
            return []
        groups = await s.exec(
            select(CoreGroup).where(
                CoreGroup.org_id == org.id,
                CoreGroup.channel_id == event.channel_id,
                CoreGroup.status == GroupStatus.ACTIVE,
            )
        )
        for group in list(groups):
            lang = await language_for(s, org, group.facilitator_id)
            for leaver in event.people:
                member = await member_in(s, group.id or 0, leaver)
                if member is None or leaver == group.facilitator_id:
                    continue
                intents.append(Direct(group.facilitator_id, _ask(group, member, lang)))
    return intents


def _ask(group: CoreGroup, member: Member, lang: str) -> Message:
    person = Mention(member.user_id, member.display_name)
    said = t_spans("people.left_ask", lang, person=person, child_ref=group.child_ref)
    value = f"{group.id}:{member.id}"
    name = member.display_name
    buttons = (
        Button(
            t("people.yes_remove", lang),
            REMOVE_YES,
            value,
            style="danger",
            spoken=t("people.yes_spoken", lang, person=name),
        ),
        Button(
            t("people.no_keep", lang),
            REMOVE_NO,
            value,
            spoken=t("people.no_spoken", lang, person=name),
        ),
    )
    return Message(text=spans_text(said), blocks=(Paragraph(said), Buttons(buttons)))


def _pair(value: str) -> tuple[int, int]:
    bits = value.split(":")
    ids = [parse_id(b) for b in bits]
    if len(ids) != 2 or ids[0] is None or ids[1] is None:
        raise BadInput(key="errors.button_expired")
    return ids[0], ids[1]


async def answer_left(
    core: Core, actor: Actor, value: str, *, remove_them: bool, in_session: SessionEffect
) -> list[Intent]:
    """The facilitator's **Yes, remove** or **No, keep them**."""
    group_id, member_id = _pair(value)
    async with core.db.write() as s:
        org = await ensure_org(s, core, actor)
        group = await group_by_id(s, org, group_id)
        member = await s.get(Member, member_id)
        if member is not None and member.group_id != group.id:
            member = None
        if remove_them:
            return await _remove(core, s, org, group, member, actor, in_session)
        await require_facilitator_or_admin(s, org, group, actor, "people.doing_remove")
        lang = await language_for(s, org, actor.user_id)
    person = Mention(member.user_id, member.display_name) if member else ""
    said = t_spans("people.kept", lang, person=person)
    return [Reply(Message(text=spans_text(said), blocks=(Paragraph(said),)))]
