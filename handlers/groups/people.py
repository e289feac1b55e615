"""The people of a core group and of the organisation: members, co-facilitators, staff roles.

``/reflect add``, ``/reflect cofacilitator`` and ``/reflect role``; registering the group itself
(and its first members) is :mod:`handlers.groups.setup`.
"""

from __future__ import annotations

from sqlmodel import select

from handlers.base import audit
from handlers.base.access import ensure_org, group_for_channel, is_org_admin, require_facilitator
from handlers.base.core import Core
from handlers.base.errors import BadInput, NotAllowed
from handlers.base.events import Actor
from handlers.base.i18n import language_for
from handlers.base.messages import Intent, Mention, Message, Paragraph, Reply
from handlers.base.parsing import parse_user, split_person
from handlers.base.wording import t_spans
from prompts.strings import t
from storage.models import Member, MemberRole, OrgRole, StaffRole


async def add_member(core: Core, actor: Actor, channel_id: str | None, args: str) -> list[Intent]:
    """``/reflect add @person Agency`` — facilitator or admin."""
    who, agency = split_person(args)
    user_id, name = parse_user(who, "member")
    async with core.db.write() as s:
        org = await ensure_org(s, core, actor)
        group = await group_for_channel(s, org, channel_id)
        if not await is_org_admin(s, org, actor.user_id):
            await require_facilitator(s, group, actor, "add members")
        if user_id == group.chair_id or user_id == group.facilitator_id:
            raise BadInput(key="errors.fac_chair_not_asked")
        row = (
            await s.exec(
                select(Member).where(Member.group_id == group.id, Member.user_id == user_id)
            )
        ).first()
        if row is None:
            row = Member(group_id=group.id or 0, user_id=user_id, display_name=name or user_id)
        row.active = True
        row.agency = agency.strip()[:120] or row.agency
        s.add(row)
        await audit.record(
            s,
            org_id=org.id,
            actor=actor.user_id,
            action="member.added",
            subject=f"group:{group.id}",
            at=core.now(),
        )
        lang = await language_for(s, org, actor.user_id)
    added = Paragraph(t_spans("groups.added", lang, person=Mention(user_id, name)))
    return [Reply(Message(text=t("groups.member_added", lang), blocks=(added,)))]


async def set_co_facilitator(
    core: Core, actor: Actor, channel_id: str | None, args: str
) -> list[Intent]:
    """``/reflect cofacilitator @person [remove]`` — the facilitator or an admin.

    A co-facilitator may open, remind, close and cancel like the facilitator, and is not
    asked to reflect. The conference chair can never be one.
    """
    who, rest = split_person(args)
    if not who:
        raise BadInput("Use `/reflect cofacilitator @person` (add `remove` to take it away).")
    user_id, name = parse_user(who, "co-facilitator")
    removing = rest.lower() == "remove"
    async with core.db.write() as s:
        org = await ensure_org(s, core, actor)
        group = await group_for_channel(s, org, channel_id)
        if actor.user_id != group.facilitator_id and not await is_org_admin(s, org, actor.user_id):
            raise NotAllowed(
                "Only the facilitator or an admin can choose a co-facilitator.",
                mention=group.facilitator_id,
            )
        if user_id == group.chair_id:
            raise NotAllowed(
                "The conference chair for this child cannot facilitate their supervision."
            )
        if user_id == group.facilitator_id:
            raise BadInput("That person is already the facilitator.")
        row = (
            await s.exec(
                select(Member).where(Member.group_id == group.id, Member.user_id == user_id)
            )
        ).first()
        if removing:
            if row is not None and row.role == MemberRole.CO_FACILITATOR:
                row.active = False
                s.add(row)
        else:
            if row is None:
                row = Member(group_id=group.id or 0, user_id=user_id, display_name=name or user_id)
            row.role = MemberRole.CO_FACILITATOR
            row.agency = row.agency or "Co-facilitator"
            row.active = True
            s.add(row)
        await audit.record(
            s,
            org_id=org.id,
            actor=actor.user_id,
            action="role.co_facilitator_removed" if removing else "role.co_facilitator",
            subject=f"group:{group.id}",
            at=core.now(),
            user=user_id,
        )
    verb = "is no longer" if removing else "is now"
    said = Paragraph((Mention(user_id, name), f" {verb} a co-facilitator of this core group."))
    return [Reply(Message(text="Co-facilitator updated.", blocks=(said,)))]


ROLE_NAMES = {
    "admin": OrgRole.ADMIN,
    "lead_officer": OrgRole.LEAD_OFFICER,
    "facilitator": OrgRole.FACILITATOR,
}


async def grant_role(core: Core, actor: Actor, args: str) -> list[Intent]:
    """``/reflect role @person facilitator|lead_officer|admin [remove]`` — admins only."""
    who, rest = split_person(args)
    parts = rest.split()
    if not who or not parts or parts[0] not in ROLE_NAMES:
        raise BadInput(key="errors.role_usage")
    user_id, name = parse_user(who, "person")
    role = ROLE_NAMES[parts[0]]
    removing = len(parts) > 1 and parts[1] == "remove"
    async with core.db.write() as s:
        org = await ensure_org(s, core, actor)
        if not await is_org_admin(s, org, actor.user_id):
            raise NotAllowed(key="errors.only_admin_roles")
        row = (
            await s.exec(
                select(StaffRole).where(
                    StaffRole.org_id == org.id, StaffRole.user_id == user_id, StaffRole.role == role
                )
            )
        ).first()
        if removing and row is not None:
            await s.delete(row)
        elif not removing and row is None:
            s.add(StaffRole(org_id=org.id or 0, user_id=user_id, role=role))
        await audit.record(
            s,
            org_id=org.id,
            actor=actor.user_id,
            action="role.removed" if removing else "role.granted",
            subject=f"user:{user_id}",
            at=core.now(),
            role=str(role),
        )
        lang = await language_for(s, org, actor.user_id)
    key = "groups.no_longer_has" if removing else "groups.now_has"
    role_name = parts[0].replace("_", " ")
    said = Paragraph(t_spans(key, lang, person=Mention(user_id, name), role=role_name))
    done = t("groups.role_removed" if removing else "groups.role_given", lang)
    return [Reply(Message(text=done, blocks=(said,)))]
