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

from handlers import audit
from handlers.access import (
    ensure_org,
    group_by_id,
    group_for_channel,
    members_of,
    open_session,
    require_facilitator,
    session_for,
)
from handlers.core import Core
from handlers.dialogue import dialogue_key
from handlers.errors import BadInput, Conflict, NotFound
from handlers.events import Actor
from handlers.messages import (
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
)
from handlers.progress import progress_key, progress_view
from handlers.views import (
    closed_message,
    invitation,
    local_deadline,
)
from prompts.loader import DEFAULT_SET
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
    ("/reflect", "start core group supervision (Appendix 1) in this channel"),
    ("/reflect <set>", "start another format; see /reflect sets"),
    ("/reflect setup", "set up this channel as a core group"),
    ("/reflect status", "see who has reflected so far"),
    ("/reflect remind", "remind those who have not answered (facilitator)"),
    ("/reflect close", "record the agreed position and close (facilitator)"),
    ("/reflect cancel", "cancel the open session (facilitator)"),
    ("/reflect add @person Agency", "add a member (facilitator)"),
    ("/reflect role @person facilitator", "give a role (admin)"),
    ("/reflect export [docx|md|json]", "attach the latest record (facilitator)"),
    ("/reflect export casefile", "the case-file version: key points only (facilitator)"),
    ("/reflect trajectory", "the group's answers across its supervisions"),
    ("/reflect debrief", "your private debrief notes (facilitator)"),
    ("/reflect digest", "themes and counts across all groups (Lead Officer)"),
    ("/reflect sets", "list the reflection formats"),
)


def help_message() -> Message:
    lines = "\n".join(f"{cmd} — {what}" for cmd, what in HELP_LINES)
    return Message(
        text="Here is what I can do:\n" + lines,
        blocks=(
            Heading("Core group reflection"),
            Paragraph(("Here is what I can do:",)),
            Context(tuple(f"{cmd} — {what}\n" for cmd, what in HELP_LINES)),
        ),
    )


def sets_message(core: Core) -> Message:
    rows = []
    for set_id in core.sets.ids():
        qset = core.sets.get(set_id)
        rows.append((set_id, qset.title, qset.summary, qset.minutes))
    text = "\n".join(f"{i} — {t} (about {m} min)" for i, t, _s, m in rows)
    return Message(
        text="Reflection formats:\n" + text,
        blocks=(
            Heading("Reflection formats"),
            *(
                Paragraph((Strong(f"/reflect {i}"), f" — {t}. {s} About {m} minutes."))
                for i, t, s, m in rows
            ),
        ),
    )


async def start(core: Core, actor: Actor, channel_id: str | None, set_name: str) -> list[Intent]:
    """Open a session in the channel's core group and invite every member by DM."""
    set_id = set_name or DEFAULT_SET
    if not core.sets.has(set_id):
        raise BadInput(f"I don't know the format '{set_id[:40]}'. See `/reflect sets`.")
    async with core.db.write() as s:
        org = await ensure_org(s, core, actor)
        group = await group_for_channel(s, org, channel_id)
        return await _open(core, s, org, group, actor, set_id)


async def start_for_group(core: Core, actor: Actor, group_id: int) -> list[Intent]:
    """The "Start now" button on a due-supervision nudge."""
    async with core.db.write() as s:
        org = await ensure_org(s, core, actor)
        group = await group_by_id(s, org, group_id)
        return await _open(core, s, org, group, actor, DEFAULT_SET)


async def _open(
    core: Core, s: AsyncSession, org: Organisation, group: CoreGroup, actor: Actor, set_id: str
) -> list[Intent]:
    await require_facilitator(s, group, actor, "start a reflection")
    if group.status == GroupStatus.ENDED:
        raise Conflict("This child's plan has ended, so the core group is closed.")
    if await open_session(s, group.id or 0) is not None:
        raise Conflict(
            "A session is already open here. Use `/reflect status` to see it, "
            "or `/reflect close` to close it first."
        )
    members = [m for m in await members_of(s, group.id or 0) if m.role == MemberRole.MEMBER]
    if not members:
        raise BadInput(
            "This core group has no members to ask yet. "
            "Add them with `/reflect setup` or `/reflect add @person Agency`."
        )
    qset = core.sets.get(set_id, org.language)
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
    try:
        await s.flush()
    except IntegrityError as exc:  # another instance opened one a moment ago
        raise Conflict("A session is already open here. Use `/reflect status` to see it.") from exc
    parts = []
    for m in members:
        p = Participation(session_id=session.id or 0, member_id=m.id or 0, updated_at=now)
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
    deadline = local_deadline(session.closes_at, org.timezone)
    intents: list[Intent] = [
        Post(
            group.channel_id,
            await progress_view(s, session, group, core),
            remember_as=progress_key(session.id or 0),
        ),
    ]
    for p, m in parts:
        intents.append(
            Direct(
                m.user_id,
                invitation(qset, group.child_ref, deadline, p.id or 0, group.facilitator_id),
                remember_as=dialogue_key(p.id or 0),
            )
        )
    return intents


async def _session_in_channel(
    s: AsyncSession, core: Core, actor: Actor, channel_id: str | None
) -> tuple[Organisation, CoreGroup, ReflectionSession]:
    org = await ensure_org(s, core, actor)
    group = await group_for_channel(s, org, channel_id)
    session = await open_session(s, group.id or 0)
    if session is None:
        raise NotFound("There is no open session in this core group. Start one with `/reflect`.")
    return org, group, session


async def status(core: Core, actor: Actor, channel_id: str | None) -> list[Intent]:
    async with core.db.read() as s:
        _org, group, session = await _session_in_channel(s, core, actor, channel_id)
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
            raise Conflict("This session has closed.")
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
        deadline = local_deadline(session.closes_at, org.timezone)
        qset = core.sets.get(session.set_id)
    intents: list[Intent] = []
    for p, m in outstanding:
        text = f"A reminder: the reflection for {group.child_ref} is still open" + (
            f" until {deadline}." if deadline else "."
        )
        intents.append(Direct(m.user_id, Message(text=text, blocks=(Paragraph((text,)),))))
        if p.state in (ParticipationState.INVITED, ParticipationState.DEFERRED):
            intents.append(
                Update(
                    dialogue_key(p.id or 0),
                    invitation(qset, group.child_ref, deadline, p.id or 0, group.facilitator_id),
                )
            )
    done = (
        "Nobody is outstanding."
        if not outstanding
        else (f"Reminded {len(outstanding)} {'person' if len(outstanding) == 1 else 'people'}.")
    )
    intents.append(Reply(Message(text=done, blocks=(Paragraph((done,)),))))
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
            await s.exec(select(Participation).where(Participation.session_id == session.id))
        )
        progress = await progress_view(s, session, group, core)
    intents: list[Intent] = [Update(progress_key(session.id or 0), progress)]
    for p in parts:
        intents.append(Update(dialogue_key(p.id or 0), closed_message(group.child_ref, True)))
    said = "The session was cancelled. Nothing was recorded."
    intents.append(Reply(Message(text=said, blocks=(Paragraph((said,)),))))
    return intents
