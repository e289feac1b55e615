"""Opening a reflection session: who is asked (and in which session role), the session and its
participations, the channel's progress message and each member's invitation."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.base import audit
from handlers.base.access import members_of, open_session, require_facilitator
from handlers.base.core import Core
from handlers.base.errors import BadInput, Conflict
from handlers.base.events import Actor
from handlers.base.i18n import language_for, languages_for, org_language
from handlers.base.messages import Direct, Intent, Message, Post, Reply, plain, progress_key
from handlers.base.parsing import parse_user
from handlers.base.wording import local_deadline
from handlers.reflection.dialogue import dialogue_key
from handlers.reflection.progress import progress_view
from handlers.reflection.screens import invitation, role_label
from handlers.scheduling.deliveries import calendar_for, on_leave
from prompts.schema import QuestionSet
from prompts.strings import t
from storage.models import (
    CoreGroup,
    GroupStatus,
    Member,
    MemberRole,
    Organisation,
    Participation,
    ParticipationState,
    ReflectionSession,
)


def _session_roles(qset: QuestionSet, members: list[Member], args: list[str]) -> dict[int, str]:
    """``presenter=@a enabler=@b,@c`` -> member id -> role; everyone else gets the default role
    (observer, or the set's first role that is not the presenter's)."""
    if not qset.roles:
        if args:
            raise BadInput(key="errors.no_roles")
        return {}
    by_user = {m.user_id: m for m in members}
    chosen: dict[int, str] = {}
    for arg in args:
        role, _, people = arg.partition("=")
        if role not in qset.roles or not people:
            raise BadInput(key="errors.unknown_role", role=role[:30], roles=", ".join(qset.roles))
        for who in filter(None, people.split(",")):
            user_id, name = parse_user(who, "person")
            member = by_user.get(user_id)
            if member is None:
                raise BadInput(key="errors.role_not_member", name=name or user_id)
            if chosen.get(member.id or 0, role) != role:
                raise BadInput(key="errors.role_twice", name=member.display_name)
            chosen[member.id or 0] = role
    default = _default_role(list(qset.roles))
    return {m.id or 0: chosen.get(m.id or 0, default) for m in members}


def _default_role(roles: list[str]) -> str:
    """Observer where the set has one, else its first role that is not the presenter's."""
    others = [r for r in roles if r != "presenter"] or roles
    return "observer" if "observer" in roles else others[0]


async def open_reflection(
    core: Core,
    s: AsyncSession,
    org: Organisation,
    group: CoreGroup,
    actor: Actor,
    set_id: str,
    role_args: list[str] | None = None,
) -> list[Intent]:
    """Open a session of ``set_id`` in ``group`` (facilitators only) and invite its members."""
    await require_facilitator(s, group, actor, "start a reflection")
    if group.status == GroupStatus.ENDED:
        raise Conflict(key="errors.plan_ended")
    if await open_session(s, group.id or 0) is not None:
        raise Conflict(key="errors.already_open")
    members = [m for m in await members_of(s, group.id or 0) if m.role == MemberRole.MEMBER]
    if not members:
        raise BadInput(key="errors.no_members")
    qset = core.sets.get(set_id, org_language(org))
    roles = _session_roles(qset, members, role_args or [])
    session, parts = await _new_session(core, s, org, group, actor, qset, members, roles)
    await audit.record(
        s,
        org_id=org.id,
        actor=actor.user_id,
        action="session.opened",
        subject=f"session:{session.id}",
        at=session.opened_at,
        set=qset.id,
        version=qset.version,
        invited=len(parts),
    )
    intents: list[Intent] = [
        Post(
            group.channel_id,
            await progress_view(s, session, group, core),
            remember_as=progress_key(session.id or 0),
        ),
        *await _invitations(core, s, org, group, session, parts),
    ]
    if roles:
        lang = await language_for(s, org, actor.user_id)
        intents.append(Reply(_roles_message(parts, _default_role(list(qset.roles)), lang)))
    return intents


async def _new_session(
    core: Core,
    s: AsyncSession,
    org: Organisation,
    group: CoreGroup,
    actor: Actor,
    qset: QuestionSet,
    members: list[Member],
    roles: dict[int, str],
) -> tuple[ReflectionSession, list[tuple[Participation, Member]]]:
    """The open session and a participation for each member (one open session per group)."""
    now = core.now()
    session = ReflectionSession(
        group_id=group.id or 0,
        set_id=qset.id,
        set_version=qset.version,
        opened_by=actor.user_id,
        opened_at=now,
        closes_at=now + timedelta(hours=core.session_hours),
    )
    s.add(session)
    if group.planned_on is not None:
        group.planned_on = None  # the planned meeting is happening: no "planned for today" nudge
        s.add(group)
    try:
        await s.flush()
    except IntegrityError as exc:  # another instance opened one a moment ago
        raise Conflict(key="errors.already_open_short") from exc
    parts = []
    today = calendar_for(org).local_date(now)
    for m in members:
        p = Participation(
            session_id=session.id or 0,
            member_id=m.id or 0,
            updated_at=now,
            role=roles.get(m.id or 0),
        )
        if on_leave(m, today):
            p.state = ParticipationState.AWAY  # not asked; the record says "away"
        s.add(p)
        parts.append((p, m))
    await s.flush()
    return session, parts


async def _invitations(
    core: Core,
    s: AsyncSession,
    org: Organisation,
    group: CoreGroup,
    session: ReflectionSession,
    parts: list[tuple[Participation, Member]],
) -> list[Intent]:
    """A DM inviting each member, in their own language."""
    langs = await languages_for(s, org, [m.user_id for _p, m in parts])
    intents: list[Intent] = []
    for p, m in parts:
        if p.state == ParticipationState.AWAY:
            continue
        lang = langs[m.user_id]
        intents.append(
            Direct(
                m.user_id,
                invitation(
                    core.sets.get(session.set_id, lang),
                    group.child_ref,
                    local_deadline(session.closes_at, org.timezone, lang),
                    p.id or 0,
                    group.facilitator_id,
                    lang=lang,
                    role=p.role,
                ),
                remember_as=dialogue_key(p.id or 0),
            )
        )
    return intents


def _roles_message(parts: list[tuple[Participation, Member]], default: str, lang: str) -> Message:
    """Tell the facilitator who has which role (the default role is named once)."""
    named = [
        t("roles.assigned_line", lang, name=m.display_name, role=role_label(p.role or "", lang))
        for p, m in parts
        if p.role != default
    ]
    said = t(
        "roles.assigned",
        lang,
        roles="; ".join(named) or "-",
        default=role_label(default, lang),
    )
    return plain(said)
