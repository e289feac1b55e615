"""A core group over the life of a child's plan: end it, resume it, hand it over.

    /reflect end [reason]       the plan ended: no more nudges, the retention clock starts
    /reflect resume             the plan started again: counted from the last supervision held
    /reflect handover @person   a new facilitator takes over, open session included

Each is for the group's facilitator or an organisation admin; anyone else is refused kindly
and nothing changes.
"""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.base import audit
from handlers.base.access import ensure_org, group_for_channel, is_org_admin, open_session
from handlers.base.core import Core
from handlers.base.errors import BadInput, Conflict, NotAllowed
from handlers.base.events import Actor
from handlers.base.i18n import language_for, languages_for, org_language
from handlers.base.messages import (
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
from handlers.base.text import clean
from handlers.base.wording import t_spans
from handlers.scheduling.due import ANCHOR_LAST_HELD
from prompts.strings import phrase, t
from storage.models import CoreGroup, GroupStatus, Member, MemberRole, Organisation

MAX_REASON = 500
FACILITATOR_AGENCY = "Reviewing Officer"


async def require_lead(
    s: AsyncSession, org: Organisation, group: CoreGroup, actor: Actor, doing_key: str
) -> None:
    """The group's facilitator or an organisation admin; anyone else is refused."""
    if actor.user_id == group.facilitator_id or await is_org_admin(s, org, actor.user_id):
        return
    raise NotAllowed(
        key="lifecycle.only_fac_or_admin", mention=group.facilitator_id, doing=phrase(doing_key)
    )


def _said(key: str, lang: str, **values: object) -> Message:
    spans = t_spans(key, lang, **values)
    return Message(text=spans_text(spans), blocks=(Paragraph(spans),))


async def end(core: Core, actor: Actor, channel_id: str | None, rest: str) -> list[Intent]:
    """``/reflect end [reason]``: refused while a session is open."""
    reason = clean(rest).strip()[:MAX_REASON] or None
    now = core.now()
    async with core.db.write() as s:
        org = await ensure_org(s, core, actor)
        group = await group_for_channel(s, org, channel_id)
        await require_lead(s, org, group, actor, "lifecycle.doing_end")
        if group.status == GroupStatus.ENDED:
            raise Conflict(key="lifecycle.already_ended")
        if await open_session(s, group.id or 0) is not None:
            raise Conflict(key="lifecycle.close_first")
        group.status = GroupStatus.ENDED
        group.ended_at = now
        group.ended_reason = reason
        group.planned_on = None
        group.snoozed_until = None
        s.add(group)
        await audit.record(
            s,
            org_id=org.id,
            actor=actor.user_id,
            action="group.ended",
            subject=f"group:{group.id}",
            at=now,
            reason_given=reason is not None,
        )
        lang = org_language(org)
        actor_lang = await language_for(s, org, actor.user_id)
    said = t("lifecycle.ended", lang, child_ref=group.child_ref)
    if reason:
        said += " " + t("lifecycle.ended_because", lang, reason=reason)
    return [
        Post(group.channel_id, plain(said)),
        Reply(plain(t("lifecycle.ended_reply", actor_lang))),
    ]


async def resume(core: Core, actor: Actor, channel_id: str | None, rest: str) -> list[Intent]:
    """``/reflect resume``: active again, the schedule counted from the last supervision held."""
    now = core.now()
    async with core.db.write() as s:
        org = await ensure_org(s, core, actor)
        group = await group_for_channel(s, org, channel_id)
        await require_lead(s, org, group, actor, "lifecycle.doing_resume")
        if group.status != GroupStatus.ENDED:
            raise Conflict(key="lifecycle.not_ended")
        group.status = GroupStatus.ACTIVE
        group.ended_at = None  # the retention clock stops again
        group.ended_reason = None
        # The old series may be long past; the next one follows the last supervision held.
        group.schedule_anchor = ANCHOR_LAST_HELD
        s.add(group)
        await audit.record(
            s,
            org_id=org.id,
            actor=actor.user_id,
            action="group.resumed",
            subject=f"group:{group.id}",
            at=now,
        )
        lang = org_language(org)
        actor_lang = await language_for(s, org, actor.user_id)
    said = t("lifecycle.resumed", lang, child_ref=group.child_ref)
    return [
        Post(group.channel_id, plain(said)),
        Reply(plain(t("lifecycle.resumed_reply", actor_lang))),
    ]


async def handover(core: Core, actor: Actor, channel_id: str | None, rest: str) -> list[Intent]:
    """``/reflect handover @person``: never to the conference chair."""
    who, _ = split_person(rest)
    if not who:
        raise BadInput(key="lifecycle.handover_usage")
    new_id, new_name = parse_user(who, "facilitator")
    now = core.now()
    async with core.db.write() as s:
        org = await ensure_org(s, core, actor)
        group = await group_for_channel(s, org, channel_id)
        await require_lead(s, org, group, actor, "lifecycle.doing_handover")
        if new_id == group.chair_id:
            raise NotAllowed(key="lifecycle.handover_chair")
        if new_id == group.facilitator_id:
            raise BadInput(key="lifecycle.handover_same")
        old_id = group.facilitator_id
        old_name, new_name = await _swap_facilitator(s, group, old_id, (new_id, new_name))
        group.facilitator_id = new_id
        s.add(group)
        await audit.record(
            s,
            org_id=org.id,
            actor=actor.user_id,
            action="group.handover",
            subject=f"group:{group.id}",
            at=now,
            old=old_id,
            new=new_id,
        )
        langs = await languages_for(s, org, [old_id, new_id, actor.user_id])
        lang = org_language(org)
    old, new = Mention(old_id, old_name), Mention(new_id, new_name)
    ref = group.child_ref
    return [
        Post(group.channel_id, _said("lifecycle.handover_channel", lang, old=old, new=new)),
        Direct(new_id, _said("lifecycle.handover_new", langs[new_id], old=old, child_ref=ref)),
        Direct(old_id, _said("lifecycle.handover_old", langs[old_id], new=new, child_ref=ref)),
        Reply(plain(t("lifecycle.handover_reply", langs[actor.user_id]))),
    ]


async def _swap_facilitator(
    s: AsyncSession, group: CoreGroup, old_id: str, new: tuple[str, str]
) -> tuple[str, str]:
    """The old facilitator leaves the group; the new one joins it as facilitator (a member or
    co-facilitator who takes over stops being one). Returns both display names."""
    rows = {
        m.user_id: m
        for m in await s.exec(
            select(Member).where(
                Member.group_id == group.id, col(Member.user_id).in_([old_id, new[0]])
            )
        )
    }
    old_row = rows.get(old_id)
    old_name = old_row.display_name if old_row else old_id
    if old_row is not None:
        old_row.active = False
        s.add(old_row)
    row = rows.get(new[0])
    if row is None:
        row = Member(group_id=group.id or 0, user_id=new[0], display_name=new[1] or new[0])
    row.role = MemberRole.FACILITATOR
    row.agency = FACILITATOR_AGENCY
    row.active = True
    row.on_leave_until = None
    s.add(row)
    await s.flush()
    return old_name, row.display_name
