"""Who is who: organisations, groups and members looked up for an actor, and the role checks.

Every lookup is scoped to the actor's organisation (Slack workspace / Teams tenant), so one
organisation can never reach another's groups, even with a guessed id.
"""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.base.core import Core
from handlers.base.errors import NotAllowed, NotFound
from handlers.base.events import Actor
from handlers.base.request import Request, attach_org, remember, resolved_for
from prompts.strings import phrase
from storage.models import (
    CoreGroup,
    Member,
    MemberRole,
    Organisation,
    OrgRole,
    Participation,
    ReflectionSession,
    StaffRole,
)


async def find_org(s: AsyncSession, actor: Actor) -> Organisation | None:
    """The actor's organisation; from the router's request when it has one (no query)."""
    if isinstance(actor, Request):
        if actor.org_id is not None:
            return _held(s, await attach_org(s, actor))
        remember(s, actor)  # a new organisation: the handler's ensure_org creates it
    return (
        await s.exec(
            select(Organisation).where(
                Organisation.platform == actor.platform, Organisation.external_id == actor.org
            )
        )
    ).first()


async def ensure_org(s: AsyncSession, core: Core, actor: Actor) -> Organisation:
    """The actor's organisation, created with the deployment's defaults on first contact."""
    org = await find_org(s, actor)
    if org is None:
        org = Organisation(
            platform=actor.platform,
            external_id=actor.org,
            timezone=core.default_timezone,
            nation=core.default_nation,
            child_names_allowed=core.child_names_allowed,
        )
        s.add(org)
        await s.flush()
    return org


async def group_for_channel(
    s: AsyncSession, org: Organisation, channel_id: str | None
) -> CoreGroup:
    if not channel_id:
        raise NotFound(key="errors.run_in_channel")
    request = resolved_for(s, org.id, None)
    if request is not None and request.group_id and request.channel_id == channel_id:
        return await group_by_id(s, org, request.group_id)
    group = (
        await s.exec(
            select(CoreGroup).where(CoreGroup.org_id == org.id, CoreGroup.channel_id == channel_id)
        )
    ).first()
    if group is None:
        raise NotFound(key="errors.channel_not_group")
    return group


async def group_by_id(s: AsyncSession, org: Organisation, group_id: int) -> CoreGroup:
    group = await s.get(CoreGroup, group_id)
    if group is None or group.org_id != org.id:
        raise NotFound()
    return group


async def members_of(s: AsyncSession, group_id: int) -> list[Member]:
    rows = await s.exec(
        select(Member).where(Member.group_id == group_id, Member.active == True)  # noqa: E712
    )
    return list(rows)


async def member_in(s: AsyncSession, group_id: int, user_id: str) -> Member | None:
    return (
        await s.exec(
            select(Member).where(
                Member.group_id == group_id,
                Member.user_id == user_id,
                Member.active == True,  # noqa: E712
            )
        )
    ).first()


async def staff_roles(s: AsyncSession, org: Organisation, user_id: str) -> set[str]:
    request = resolved_for(s, org.id, user_id)
    if request is not None:
        return set(request.roles)
    rows = await s.exec(
        select(StaffRole.role).where(StaffRole.org_id == org.id, StaffRole.user_id == user_id)
    )
    return {str(r) for r in rows}


def is_facilitator(group: CoreGroup, user_id: str, co_facilitators: set[str]) -> bool:
    return user_id == group.facilitator_id or user_id in co_facilitators


async def co_facilitators(s: AsyncSession, group_id: int) -> set[str]:
    rows = await s.exec(
        select(Member.user_id).where(
            Member.group_id == group_id,
            Member.role == MemberRole.CO_FACILITATOR,
            Member.active == True,  # noqa: E712
        )
    )
    return set(rows)


# What the refused person tried to do, as UI strings (callers pass the English phrase).
DOING_KEYS = {
    "start a reflection": "doing.start",
    "send reminders": "doing.remind",
    "cancel this session": "doing.cancel",
    "close this session": "doing.close",
    "add members": "doing.add",
    "snooze these reminders": "doing.snooze",
    "plan this supervision": "doing.plan",
    "see attendance": "doing.attendance",
    "see the feedback": "doing.feedback",
}


async def require_facilitator(s: AsyncSession, group: CoreGroup, actor: Actor, doing: str) -> None:
    """Only the group's facilitator (or a co-facilitator) may open, close or cancel."""
    if actor.user_id == group.chair_id:
        raise NotAllowed(key="errors.chair_cannot_facilitate")
    if is_facilitator(group, actor.user_id, await co_facilitators(s, group.id or 0)):
        return
    said = phrase(DOING_KEYS[doing]) if doing in DOING_KEYS else doing
    raise NotAllowed(key="errors.only_facilitator", mention=group.facilitator_id, doing=said)


async def open_session(s: AsyncSession, group_id: int) -> ReflectionSession | None:
    return (
        await s.exec(
            select(ReflectionSession).where(
                ReflectionSession.group_id == group_id, ReflectionSession.status == "open"
            )
        )
    ).first()


async def session_for(
    s: AsyncSession, org: Organisation, session_id: int
) -> tuple[ReflectionSession, CoreGroup]:
    session = await s.get(ReflectionSession, session_id)
    if session is None:
        raise NotFound()
    group = await group_by_id(s, org, session.group_id)
    return session, group


async def own_participation(
    s: AsyncSession, actor: Actor, participation_id: int, *, lock: bool = False
) -> tuple[Participation, Member, ReflectionSession, CoreGroup]:
    """The actor's own participation: anyone else's is refused, as if it did not exist."""
    # One joined query, not four lookups: this runs on every click (docs/performance.md).
    stmt = (
        select(Participation, Member, ReflectionSession, CoreGroup)
        .join(Member, col(Member.id) == col(Participation.member_id))
        .join(ReflectionSession, col(ReflectionSession.id) == col(Participation.session_id))
        .join(CoreGroup, col(CoreGroup.id) == col(ReflectionSession.group_id))
        .where(col(Participation.id) == participation_id)
    )
    if lock:
        stmt = stmt.with_for_update(of=Participation)
    found = (await s.exec(stmt)).first()
    if found is None:
        raise NotFound()
    part, member, session, group = found
    if isinstance(actor, Request) and actor.org_id == group.org_id:
        org: Organisation | None = await attach_org(s, actor)
    else:
        org = await s.get(Organisation, group.org_id)
    _held(s, org)
    if (
        org is None
        or (org.platform, org.external_id) != (actor.platform, actor.org)
        or (member.user_id != actor.user_id)
    ):
        raise NotAllowed(key="errors.someone_elses")
    if not member.active:
        raise NotAllowed(key="people.you_left")  # removed from the group: nothing more to do
    return part, member, session, group


def _held(s: AsyncSession, org: Organisation | None) -> Organisation | None:
    """Keep ``org`` alive for this session: its identity map holds rows weakly, and the
    later ``s.get(Organisation, …)`` of the same event (language, deadline) skip the database."""
    s.info.setdefault("held", []).append(org)
    return org


async def is_org_admin(s: AsyncSession, org: Organisation, user_id: str) -> bool:
    return OrgRole.ADMIN in await staff_roles(s, org, user_id)


async def has_any_admin(s: AsyncSession, org: Organisation) -> bool:
    row = (
        await s.exec(
            select(StaffRole.id).where(StaffRole.org_id == org.id, StaffRole.role == OrgRole.ADMIN)
        )
    ).first()
    return row is not None
