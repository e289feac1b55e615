"""A reflection session's life: open, progress, remind, cancel; closing lives in ``closing``.

Command grammar (after ``/reflect`` in Slack and the console, ``@bot reflect`` in Teams)::

    /reflect                 start the default set (Appendix 1) in this core group's channel
    /reflect <set>           start a named set (see /reflect sets)
    /reflect setup [k=v …]   register this channel as a core group (form, or inline arguments)
    /reflect status          who has reflected so far (no answers are shown before close)
    /reflect remind          remind those who have not answered yet (facilitator)
    /reflect close           record the agreed position and close (facilitator)
    /reflect cancel          cancel the open session (facilitator)
    /reflect add @person Agency · /reflect role @person facilitator|lead_officer|admin
    /reflect sets · /reflect help
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.base import audit
from handlers.base.access import (
    ensure_org,
    group_by_id,
    group_for_channel,
    is_org_admin,
    member_in,
    members_of,
    open_session,
    require_facilitator,
    session_for,
)
from handlers.base.core import Core
from handlers.base.errors import BadInput, Conflict, NotAllowed, NotFound
from handlers.base.events import Actor
from handlers.base.i18n import language_for, languages_for, org_language
from handlers.base.messages import (
    Context,
    Direct,
    Heading,
    Intent,
    Message,
    Paragraph,
    Post,
    Reply,
    Strong,
    Update,
    plain,
    progress_key,
)
from handlers.base.parsing import parse_user
from handlers.base.pinned import pinned_set, snapshot
from handlers.base.wording import local_deadline
from handlers.reflection.dialogue import dialogue_key
from handlers.reflection.progress import progress_view
from handlers.reflection.screens import closed_message, invitation, role_label
from prompts.loader import DEFAULT_SET
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
    SessionStatus,
)

HELP_LINES = (
    ("/reflect", "help.start"),
    ("/reflect <set>", "help.start_set"),
    ("/reflect action_learning presenter=@a enabler=@b", "help.roles"),
    ("/reflect setup", "help.setup"),
    ("/reflect status", "help.status"),
    ("/reflect remind", "help.remind"),
    ("/reflect close", "help.close"),
    ("/reflect cancel", "help.cancel"),
    ("/reflect plan 2026-05-12", "help.plan"),
    ("/reflect add @person Agency", "help.add"),
    ("/reflect role @person facilitator", "help.role"),
    ("/reflect export [docx|md|json]", "help.export"),
    ("/reflect export casefile", "help.export_casefile"),
    ("/reflect trajectory", "help.trajectory"),
    ("/reflect debrief", "help.debrief"),
    ("/reflect digest", "help.digest"),
    ("/reflect attendance", "help.attendance"),
    ("/reflect feedback", "help.feedback"),
    ("/reflect language cy|en", "help.language"),
    ("/reflect sets", "help.sets"),
)


def help_message(lang: str = "en") -> Message:
    lines = [t("help.line", lang, command=cmd, what=t(key, lang)) for cmd, key in HELP_LINES]
    intro = t("help.intro", lang)
    return Message(
        text=intro + "\n" + "\n".join(lines),
        blocks=(
            Heading(t("help.title", lang)),
            Paragraph((intro,)),
            Context(tuple(line + "\n" for line in lines)),
        ),
    )


def sets_message(core: Core, lang: str = "en") -> Message:
    sets = [core.sets.get(set_id, lang) for set_id in core.sets.ids()]
    text = "\n".join(
        t("sets.format_line", lang, set_id=q.id, title=q.title, minutes=q.minutes) for q in sets
    )
    return Message(
        text=t("sets.formats_intro", lang) + "\n" + text,
        blocks=(
            Heading(t("sets.formats_title", lang)),
            *(
                Paragraph(
                    (
                        Strong(f"/reflect {q.id}"),
                        ": ",
                        t(
                            "sets.format_item",
                            lang,
                            title=q.title,
                            summary=q.summary,
                            minutes=q.minutes,
                        ),
                    )
                )
                for q in sets
            ),
        ),
    )


async def start(core: Core, actor: Actor, channel_id: str | None, set_name: str) -> list[Intent]:
    """Open a session in the channel's core group and invite every member by DM.

    ``set_name`` may carry session roles after the set: ``action_learning presenter=@a``.
    """
    words = set_name.split()
    set_id = words[0] if words else DEFAULT_SET
    if not core.sets.has(set_id):
        raise BadInput(key="errors.unknown_format", set_id=set_id[:40])
    async with core.db.write() as s:
        org = await ensure_org(s, core, actor)
        group = await group_for_channel(s, org, channel_id)
        return await _open(core, s, org, group, actor, set_id, words[1:])


async def start_for_group(core: Core, actor: Actor, group_id: int) -> list[Intent]:
    """The "Start now" button on a due-supervision nudge."""
    async with core.db.write() as s:
        org = await ensure_org(s, core, actor)
        group = await group_by_id(s, org, group_id)
        return await _open(core, s, org, group, actor, DEFAULT_SET)


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


async def _open(
    core: Core,
    s: AsyncSession,
    org: Organisation,
    group: CoreGroup,
    actor: Actor,
    set_id: str,
    role_args: list[str] | None = None,
) -> list[Intent]:
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
    now = core.now()
    session = ReflectionSession(
        group_id=group.id or 0,
        set_id=qset.id,
        set_version=qset.version,
        questions=snapshot(qset),  # pinned: a later change to the set never reaches it
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
    for m in members:
        p = Participation(
            session_id=session.id or 0,
            member_id=m.id or 0,
            updated_at=now,
            role=roles.get(m.id or 0),
        )
        s.add(p)
        parts.append((p, m))
    await s.flush()
    await audit.record(
        s,
        org_id=org.id,
        actor=actor.user_id,
        action="session.opened",
        subject=f"session:{session.id}",
        at=now,
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
    ]
    langs = await languages_for(s, org, [m.user_id for _p, m in parts])
    for p, m in parts:
        lang = langs[m.user_id]
        intents.append(
            Direct(
                m.user_id,
                invitation(
                    pinned_set(core, session, lang),
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
    if roles:
        lang = await language_for(s, org, actor.user_id)
        intents.append(Reply(_roles_message(parts, _default_role(list(qset.roles)), lang)))
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


async def _session_in_channel(
    s: AsyncSession, core: Core, actor: Actor, channel_id: str | None
) -> tuple[Organisation, CoreGroup, ReflectionSession]:
    org = await ensure_org(s, core, actor)
    group = await group_for_channel(s, org, channel_id)
    session = await open_session(s, group.id or 0)
    if session is None:
        raise NotFound(key="errors.no_open_session")
    return org, group, session


async def status(core: Core, actor: Actor, channel_id: str | None) -> list[Intent]:
    async with core.db.read() as s:
        org, group, session = await _session_in_channel(s, core, actor, channel_id)
        # Names and the child's reference: the group's own people and admins only.
        if not (
            await member_in(s, group.id or 0, actor.user_id)
            or actor.user_id == group.facilitator_id
            or await is_org_admin(s, org, actor.user_id)
        ):
            raise NotAllowed("Only the core group's members can see its progress.")
        return [Reply(await progress_view(s, session, group, core))]


async def remind_outstanding(
    core: Core, actor: Actor, *, channel_id: str | None = None, session_id: int | None = None
) -> list[Intent]:
    """The facilitator's "Remind those outstanding": one DM each, pointing at their questions."""
    async with core.db.write() as s:
        if session_id is not None:
            org = await ensure_org(s, core, actor)
            session, group = await session_for(s, org, session_id)
        else:
            org, group, session = await _session_in_channel(s, core, actor, channel_id)
        await require_facilitator(s, group, actor, "send reminders")
        if session.status != SessionStatus.OPEN:
            raise Conflict(key="errors.session_has_closed")
        rows = await s.exec(
            select(Participation, Member)
            .join(Member, col(Member.id) == col(Participation.member_id))
            .where(Participation.session_id == session.id, col(Participation.finished_at).is_(None))
        )
        outstanding = list(rows)
        await audit.record(
            s,
            org_id=org.id,
            actor=actor.user_id,
            action="session.reminded",
            subject=f"session:{session.id}",
            at=core.now(),
            count=len(outstanding),
        )
        langs = await languages_for(s, org, [m.user_id for _p, m in outstanding])
        actor_lang = await language_for(s, org, actor.user_id)
    intents: list[Intent] = []
    for p, m in outstanding:
        lang = langs[m.user_id]
        deadline = local_deadline(session.closes_at, org.timezone, lang)
        key = "progress.reminder_open_until" if deadline else "progress.reminder_open"
        intents.append(
            Direct(m.user_id, plain(t(key, lang, child_ref=group.child_ref, closes_at=deadline)))
        )
        if p.state in (ParticipationState.INVITED, ParticipationState.DEFERRED):
            intents.append(
                Update(
                    dialogue_key(p.id or 0),
                    invitation(
                        pinned_set(core, session, lang),
                        group.child_ref,
                        deadline,
                        p.id or 0,
                        group.facilitator_id,
                        lang=lang,
                        role=p.role,
                    ),
                )
            )
    if not outstanding:
        done = t("progress.nobody_outstanding", actor_lang)
    elif len(outstanding) == 1:
        done = t("progress.reminded_one", actor_lang)
    else:
        done = t("progress.reminded_many", actor_lang, count=len(outstanding))
    intents.append(Reply(plain(done)))
    return intents


async def cancel(core: Core, actor: Actor, channel_id: str | None) -> list[Intent]:
    async with core.db.write() as s:
        org, group, session = await _session_in_channel(s, core, actor, channel_id)
        await require_facilitator(s, group, actor, "cancel this session")
        session.status = SessionStatus.CANCELLED
        session.closed_by = actor.user_id
        session.closed_at = core.now()
        s.add(session)
        await s.flush()
        await audit.record(
            s,
            org_id=org.id,
            actor=actor.user_id,
            action="session.cancelled",
            subject=f"session:{session.id}",
            at=core.now(),
        )
        parts = list(
            await s.exec(
                select(Participation, Member)
                .join(Member, col(Member.id) == col(Participation.member_id))
                .where(Participation.session_id == session.id)
            )
        )
        progress = await progress_view(s, session, group, core)
        langs = await languages_for(s, org, [m.user_id for _p, m in parts])
        actor_lang = await language_for(s, org, actor.user_id)
    intents: list[Intent] = [Update(progress_key(session.id or 0), progress)]
    for p, m in parts:
        closed = closed_message(group.child_ref, True, lang=langs[m.user_id])
        intents.append(Update(dialogue_key(p.id or 0), closed))
    intents.append(Reply(plain(t("progress.cancelled_reply", actor_lang))))
    return intents
